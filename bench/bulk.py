"""The bulk phase of `make bench`: spends a second through POST /api/v1/transactions/bulk (batches of
`--bulk-size`) against single POSTs, in alternating rounds of one run, so that the machine's drift falls
on both alike and their ratio (`bulk_vs_single`) holds.

Both send the same spends ($1-$50 of travel, the ingest phase's) from the same employees; a batch goes to
the employees in turn, so none of them nears the per-user rate limit.
"""

import asyncio
from collections.abc import Callable

import orjson

from bench.cpu import CpuMeter, per_request_ms
from bench.loadgen import Run, closed_loop, percentile


def spend_item(index: int) -> dict:
    return {
        "amount": f"{1 + index % 50}.00",
        "currency": "USD",
        "merchant": f"Merchant {index % 97}",
        "category": "travel",
    }


def bulk_request(tokens: list[str], prefix: str, size: int):
    def make(index: int):
        body = orjson.dumps({"items": [spend_item(index * size + n) for n in range(size)]})
        headers = {
            "Authorization": f"Token {tokens[index % len(tokens)]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{prefix}-{index}",
        }
        return "POST", "/api/v1/transactions/bulk", headers, body

    return make


def accepted_in(run: Run) -> int:
    return sum(orjson.loads(sample.body)["accepted"] for sample in run.samples if sample.status == 200)


def measure_bulk(
    port: int, tokens: list[str], args, figures: dict, checks: dict, single_request: Callable, verify: Callable
) -> None:
    """`args.bulk_batches` batches of `args.bulk_size` from `args.bulk_clients` clients, against as many
    single POSTs' worth of time from `args.clients` clients, in `args.rounds` alternating rounds."""
    make = {
        "single": single_request(tokens, "bulk-single"),
        "bulk": bulk_request(tokens, "bulk", args.bulk_size),
    }
    clients = {"single": args.clients, "bulk": args.bulk_clients}
    totals = {"single": args.bulk_single_requests, "bulk": args.bulk_batches}
    runs: dict[str, list[Run]] = {"single": [], "bulk": []}
    cpu_seconds: dict[str, dict[str, float]] = {"single": {}, "bulk": {}}
    for round_index in range(args.rounds):
        for kind in ("single", "bulk"):
            share = totals[kind] // args.rounds + (round_index < totals[kind] % args.rounds)
            first = sum(len(run.samples) for run in runs[kind])
            meter = CpuMeter()
            meter.start()
            runs[kind].append(asyncio.run(closed_loop("127.0.0.1", port, clients[kind], share, make[kind], first)))
            for group, seconds in meter.seconds().items():
                cpu_seconds[kind][group] = cpu_seconds[kind].get(group, 0.0) + seconds
    single, bulk = Run.combined(runs["single"]), Run.combined(runs["bulk"])
    single_spends = single.statuses().get(202, 0)
    bulk_spends = accepted_in(bulk)
    figures["bulk_size"] = args.bulk_size
    figures["bulk_clients"] = args.bulk_clients
    figures["bulk_single_spends_per_s"] = round(single_spends / single.seconds, 1)
    figures["bulk_spends_per_s"] = round(bulk_spends / bulk.seconds, 1)
    figures["bulk_vs_single"] = round(figures["bulk_spends_per_s"] / figures["bulk_single_spends_per_s"], 2)
    latencies = [sample.latency_ms for sample in bulk.samples]
    figures["bulk_batch_p50_ms"] = round(percentile(latencies, 0.50), 1)
    figures["bulk_batch_p99_ms"] = round(percentile(latencies, 0.99), 1)
    figures["bulk_statuses"] = bulk.statuses()
    figures["bulk_items_refused"] = len(bulk.samples) * args.bulk_size - bulk_spends
    figures["bulk_single_cpu_ms_per_spend"] = per_request_ms(cpu_seconds["single"], max(single_spends, 1))
    figures["bulk_cpu_ms_per_spend"] = per_request_ms(cpu_seconds["bulk"], max(bulk_spends, 1))
    checks["after_bulk"] = verify()
