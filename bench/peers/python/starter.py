"""Starts N runs of the Python peer at a given concurrency and prints their timing as JSON.

`ordo bench provision` starts the peer's runs itself (one Rust driver for every subject, so the
client side is the same); this starter is for running the peer on its own:

    python bench/peers/python/starter.py --runs 100 --concurrency 20 [--approval]
"""

import argparse
import asyncio
import json
import os
import time
import uuid

from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--approval", action="store_true", help="use the admin stack: every run waits for approval")
    args = parser.parse_args()
    client = await Client.connect(
        os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
    )
    task_queue = os.environ.get("TEMPORAL_TASK_QUEUE", "provision-infra-python")
    directory = "stacks/tcloud_admin_user" if args.approval else "stacks/tcloud_namespace"
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(SearchAttributeKey.for_keyword("provisionStatus"), ""),
            SearchAttributePair(SearchAttributeKey.for_keyword("tfDirectory"), directory),
        ]
    )
    gate = asyncio.Semaphore(args.concurrency)
    latencies = []

    async def one(i: int) -> None:
        async with gate:
            t = time.monotonic()
            handle = await client.start_workflow(
                "ProvisionInfraWorkflow",
                {"directory": directory, "include_custom_search_attrs": True},
                id=f"python-peer-{uuid.uuid4()}",
                task_queue=task_queue,
                search_attributes=attributes,
            )
            if not args.approval:
                await handle.result()
                latencies.append(time.monotonic() - t)

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(args.runs)))
    wall = time.monotonic() - began
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        rank = max(1, min(len(latencies), -(-int(p * len(latencies)) // 100)))
        return latencies[rank - 1] * 1000

    print(json.dumps({
        "runs": args.runs,
        "wall_seconds": wall,
        "runs_per_second": args.runs / wall if wall else 0,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
    }))


if __name__ == "__main__":
    asyncio.run(main())
