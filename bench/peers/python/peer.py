"""The Python peer of Ordo's provisioning workflow, written with the official Temporal Python SDK.

Same shape as Ordo's run and seed 001's workflow: init -> plan -> policy -> (approval) -> apply ->
output activities, seed 001's statuses and progress values, the `provisionStatus` search attribute
at every step, the queries `get_current_status`, `get_progress`, `get_plan`, `get_reason`, and the
approval as the signal `signal_apply_decision` / `update_apply_decision` or the validated update
`update_apply_decision`.

The activities do no infrastructure work: they return payloads of the shape Ordo's sim driver
returns (a plan with text and JSON, policy results, a change summary, outputs). The benchmark
compares the workers, so the peer must not be slower for reasons outside the SDK. A plan whose
directory mentions "admin" creates an admin user, which seed 001's policy sends to a human.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from temporalio import activity, workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

PROVISION_STATUS = SearchAttributeKey.for_keyword("provisionStatus")

# Seed 001's statuses; the search attribute uses snake_case for the policy and approval steps.
SA_VALUES = {
    "checking policy": "policy_checking",
    "policy checked": "policy_checked",
    "awaiting approval decision": "awaiting_approval",
}


@activity.defn(name="terraform_init")
async def terraform_init(data: dict) -> None:
    return None


@activity.defn(name="terraform_plan")
async def terraform_plan(data: dict) -> dict:
    directory = data["directory"]
    admin = "admin" in directory
    resources = (
        [("temporalcloud_user", "admin", {"email": "admin@example.com", "account_access": "admin"})]
        if admin
        else [
            ("tls_self_signed_cert", "ca", {"key_algorithm": "ECDSA", "validity_period_hours": 8760}),
            ("temporalcloud_namespace", "demo", {"name": "ordo-demo", "retention_days": 14}),
        ]
    )
    changes = [
        {"address": f"{t}.{n}", "type": t, "name": n, "change": {"actions": ["create"], "after": v}}
        for t, n, v in resources
    ]
    human = "\n".join(
        f"  # {c['address']} will be created\n  + resource \"{c['type']}\" \"{c['name']}\" {{ ... }}" for c in changes
    )
    return {
        "human": f"Terraform will perform the following actions:\n{human}\nPlan: {len(changes)} to add, 0 to change, 0 to destroy.",
        "json": {"format_version": "1.2", "resource_changes": changes},
        "summary": {"create": len(changes), "update": 0, "delete": 0, "no_op": 0},
    }


@activity.defn(name="policy_check")
async def policy_check(plan: dict) -> list:
    results = []
    for change in plan["json"]["resource_changes"]:
        after = change["change"]["after"]
        if change["type"] == "temporalcloud_user" and after.get("account_access") == "admin":
            results.append({"level": "soft-mandatory", "message": f"{change['address']} grants admin access"})
    return results


@activity.defn(name="terraform_apply")
async def terraform_apply(plan: dict) -> dict:
    return {"added": plan["summary"]["create"], "changed": 0, "destroyed": 0}


@activity.defn(name="terraform_output")
async def terraform_output(data: dict) -> dict:
    return {
        "namespace_id": {"sensitive": False, "type": "string", "value": "sim-0000"},
        "terraform_test_private_key": {"sensitive": True, "type": "string", "value": "<sensitive>"},
    }


ACTIVITIES = [terraform_init, terraform_plan, policy_check, terraform_apply, terraform_output]


@workflow.defn(name="ProvisionInfraWorkflow")
class ProvisionInfraWorkflow:
    def __init__(self) -> None:
        self._status = "uninitialized"
        self._progress = 0
        self._plan = ""
        self._reason = ""
        self._decision: Optional[dict] = None
        self._awaiting = False
        self._search_attributes = True

    def _set(self, status: str, progress: int) -> None:
        self._status = status
        self._progress = progress
        if self._search_attributes:
            workflow.upsert_search_attributes([PROVISION_STATUS.value_set(SA_VALUES.get(status, status))])

    @workflow.run
    async def run(self, data: dict) -> dict:
        self._search_attributes = bool(data.get("include_custom_search_attrs", True))
        options: dict[str, Any] = dict(
            start_to_close_timeout=timedelta(seconds=300),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=3), maximum_interval=timedelta(seconds=5)),
        )
        self._set("initializing", 10)
        await workflow.execute_activity(terraform_init, data, **options)
        self._set("initialized", 20)
        self._set("planning", 30)
        plan = await workflow.execute_activity(terraform_plan, data, **options)
        self._plan = plan["human"]
        self._set("planned", 40)
        self._set("checking policy", 50)
        failures = await workflow.execute_activity(policy_check, plan, **options)
        self._set("policy checked", 60)
        if failures:
            self._awaiting = True
            self._set("awaiting approval decision", 60)
            await workflow.wait_condition(lambda: self._decision is not None)
            self._awaiting = False
            if not self._decision.get("is_approved"):
                self._set("rejected", 60)
                self._progress = 100
                return {"status": "rejected", "outputs": {}}
        self._set("applying", 70)
        await workflow.execute_activity(terraform_apply, plan, **options)
        self._set("applied", 80)
        outputs = await workflow.execute_activity(terraform_output, data, **options)
        self._set("applied", 80)
        self._progress = 100
        return {"status": "applied", "outputs": outputs}

    def _decide(self, decision: dict) -> None:
        if self._awaiting and self._decision is None:
            self._decision = decision
            self._reason = decision.get("reason") or ""

    @workflow.signal(name="signal_apply_decision")
    def signal_apply_decision(self, decision: dict) -> None:
        self._decide(decision)

    @workflow.update(name="update_apply_decision")
    def update_apply_decision(self, decision: dict) -> str:
        self._decide(decision)
        return self._status

    @update_apply_decision.validator
    def validate_apply_decision(self, decision: dict) -> None:
        if not (decision.get("reason") or "").strip():
            raise ValueError("Update apply decision must include a reason.")
        if not self._awaiting:
            raise ValueError(f"no approval is pending (status is {self._status!r})")

    @workflow.query(name="get_current_status")
    def get_current_status(self) -> str:
        return self._status

    @workflow.query(name="get_progress")
    def get_progress(self) -> int:
        return self._progress

    @workflow.query(name="get_plan")
    def get_plan(self) -> str:
        return self._plan

    @workflow.query(name="get_reason")
    def get_reason(self) -> str:
        return self._reason
