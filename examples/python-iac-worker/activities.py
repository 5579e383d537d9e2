"""The IaC activities of Ordo's application flow (seed 000), in Python.

Same activity names and payloads as the Rust implementation in
crates/provision/src/application/activities.rs, so either worker can serve the IaC task queue:

- ``provisionFoundationResources``: seed 000's ``ProvisionFoundationResourcesRequest``
  (``applicationId``, ``region``, ``profile``, ``teamId``, ``applicationName``, ``bucketName``) plus
  Ordo's ``driver``, ``stack`` and ``simLatencyMs``; returns the seed's response (``applicationId``,
  ``summary``, ``completionDateTime``, ``region``) plus ``outputs``, ``driver`` and ``worker``.
- ``destroyFoundationResources``: the same request; destroys what the first one created.

This worker only implements the ``sim`` driver, as a simulation of the seed's Pulumi program (an
S3 bucket and its index page): state is a JSON file per application under
``<data dir>/python-sim/``, written after every resource, so a retried activity carries on where
the last attempt stopped and re-running a completed one changes nothing. No cloud is touched.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

#: What ``worker`` says in the results of this implementation.
WORKER_NAME = "python"
#: Failure type of a request no retry can fix (the Rust worker's name for it).
INVALID_REQUEST = "InvalidFoundationRequest"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_BUCKET = re.compile(r"^[a-z0-9-]{3,63}$")


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_REQUEST, non_retryable=True)


def _check(request: dict[str, Any]) -> None:
    """Checks what reaches file names; the seed's worker refused a missing region or profile."""
    if request.get("driver", "sim") != "sim":
        raise _invalid(
            f"driver: this worker only simulates (sim); {request.get('driver')!r} needs ordo worker"
        )
    if not request.get("region") or not request.get("profile"):
        raise _invalid("region and profile is required")
    for field in ("applicationId", "region", "profile", "teamId"):
        value = str(request.get(field, ""))
        if not _ID.match(value) or ".." in value:
            raise _invalid(f"{field}: {value!r} is not a valid value")
    if not _BUCKET.match(str(request.get("bucketName", ""))):
        raise _invalid(f"bucketName: {request.get('bucketName')!r} is not a valid bucket name")


def _latency(request: dict[str, Any]) -> float:
    """Seconds per simulated cloud call: the request's ``simLatencyMs``, else 200 ms."""
    latency_ms = request.get("simLatencyMs")
    return (200 if latency_ms is None else latency_ms) / 1000


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _desired(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The seed's Pulumi program, as resources by address: a bucket and its index page."""
    bucket = request["bucketName"]
    return {
        "aws_s3_bucket.site": {
            "bucket": bucket,
            "region": request["region"],
            "tags": {
                "application": request["applicationId"],
                "team": request["teamId"],
                "provisioned-with-profile": request["profile"],
            },
        },
        "aws_s3_object.index": {
            "bucket": bucket,
            "key": "index.html",
            "content_type": "text/html",
            "content": f"<html><body>Hello, {request['applicationName']}!</body></html>",
        },
    }


class FoundationActivities:
    """The IaC step and its compensation, simulated, with state under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self._state_dir = data_dir / "python-sim"

    def _state_file(self, application_id: str) -> Path:
        return self._state_dir / f"{application_id}.json"

    def _load(self, application_id: str) -> dict[str, Any]:
        try:
            return json.loads(self._state_file(application_id).read_text())
        except FileNotFoundError:
            return {"resources": {}}

    def _save(self, application_id: str, state: dict[str, Any]) -> None:
        # Replaced atomically, so a killed worker never leaves half a file behind.
        self._state_dir.mkdir(parents=True, exist_ok=True)
        path = self._state_file(application_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        os.replace(tmp, path)

    @activity.defn(name="provisionFoundationResources")
    async def provision_foundation_resources(self, request: dict[str, Any]) -> dict[str, Any]:
        """Creates (or updates) the bucket and its page, heartbeating after every resource."""
        _check(request)
        application_id = request["applicationId"]
        latency = _latency(request)
        state = self._load(application_id)
        summary = ["simulated by the Python worker: no cloud account was touched"]
        added = changed = 0
        for address, values in _desired(request).items():
            previous = state["resources"].get(address)
            if previous == values:
                continue
            await asyncio.sleep(latency)  # the simulated cloud call; a cancellation lands here
            action = "create" if previous is None else "update"
            state["resources"][address] = values
            self._save(application_id, state)
            added += action == "create"
            changed += action == "update"
            summary.append(f"{action} {address}: complete")
            activity.heartbeat(address)
        bucket = request["bucketName"]
        outputs = {
            "bucketName": bucket,
            "region": request["region"],
            "websiteUrl": f"http://{bucket}.s3-website-{request['region']}.amazonaws.com",
        }
        state["outputs"] = outputs
        self._save(application_id, state)
        summary.append(f"Resources: {added} added, {changed} changed, 0 destroyed.")
        activity.logger.info("provisioned %s (%d added, %d changed)", application_id, added, changed)
        return {
            "applicationId": application_id,
            "summary": summary,
            "completionDateTime": _now(),
            "region": request["region"],
            "outputs": {name: {"sensitive": False, "value": value} for name, value in outputs.items()},
            "driver": "sim",
            "worker": WORKER_NAME,
        }

    @activity.defn(name="destroyFoundationResources")
    async def destroy_foundation_resources(self, request: dict[str, Any]) -> dict[str, Any]:
        """Deletes what the application's state holds, dependents first; nothing is fine too."""
        _check(request)
        application_id = request["applicationId"]
        latency = _latency(request)
        state = self._load(application_id)
        summary = []
        for address in reversed(list(state["resources"])):
            await asyncio.sleep(latency)
            del state["resources"][address]
            self._save(application_id, state)
            summary.append(f"delete {address}: complete")
            activity.heartbeat(address)
        destroyed = len(summary)
        self._state_file(application_id).unlink(missing_ok=True)
        summary.append(f"Resources: 0 added, 0 changed, {destroyed} destroyed.")
        activity.logger.info("destroyed %s (%d resources)", application_id, destroyed)
        return {
            "applicationId": application_id,
            "summary": summary,
            "completionDateTime": _now(),
            "driver": "sim",
            "worker": WORKER_NAME,
        }
