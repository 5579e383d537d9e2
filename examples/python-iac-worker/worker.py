"""Serves the IaC task queue of Ordo's application flow (seed 000) from Python.

    .venv/bin/python examples/python-iac-worker/worker.py --task-queue apps-iac

Run ``ordo worker --no-apps-iac`` (or ``ordo up --no-apps-iac``) so this worker, not Ordo's own,
takes the IaC step. Wiring only: the activities are in activities.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from activities import FoundationActivities


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
                        help="Temporal frontend (env TEMPORAL_ADDRESS)")
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"),
                        help="Temporal namespace (env TEMPORAL_NAMESPACE)")
    parser.add_argument("--task-queue", default=os.environ.get("ORDO_APPS_IAC_TASK_QUEUE", "apps-iac"),
                        help="the IaC task queue (env ORDO_APPS_IAC_TASK_QUEUE)")
    parser.add_argument("--data-dir", default=os.environ.get("ORDO_DATA_DIR", ".ordo"),
                        help="where the simulated state lives (env ORDO_DATA_DIR)")
    return parser.parse_args()


async def main() -> None:
    args = _args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    client = await Client.connect(args.address, namespace=args.namespace)
    activities = FoundationActivities(Path(args.data_dir))
    worker = Worker(
        client,
        task_queue=args.task_queue,
        activities=[activities.provision_foundation_resources, activities.destroy_foundation_resources],
        # Says which implementation ran an activity, in the history's ActivityTaskStarted events.
        identity=f"python-iac-worker/{os.getpid()}@{socket.gethostname()}",
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    logging.info("python IaC worker polling %r on %s", args.task_queue, args.address)
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
