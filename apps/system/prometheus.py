"""The Prometheus text exposition format (version 0.0.4) of the system metrics."""

from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, value: float | int, labels: dict[str, str] | None = None) -> str:
    label_text = ""
    if labels:
        label_text = "{" + ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items()) + "}"
    return f"{name}{label_text} {value}"


def render(metrics: dict[str, Any]) -> str:
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[str]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples)

    counters = metrics["transactions"]
    if counters is not None:
        for status in ("accepted", "posted", "rejected"):
            family(
                f"ledgerx_transactions_{status}_total",
                "counter",
                f"Spends {status} since the beginning, counted in PostgreSQL.",
                [_sample(f"ledgerx_transactions_{status}_total", counters[status])],
            )
        family(
            "ledgerx_transactions_pending",
            "gauge",
            "Spends accepted and not yet settled.",
            [_sample("ledgerx_transactions_pending", counters["pending"])],
        )
    family(
        "ledgerx_queue_depth",
        "gauge",
        "Messages waiting in a Celery queue.",
        [_sample("ledgerx_queue_depth", q["depth"], {"queue": q["queue"]}) for q in metrics["queues"]],
    )
    family(
        "ledgerx_queue_oldest_age_seconds",
        "gauge",
        "Age of the oldest job waiting in a Celery queue (settlement: the oldest pending spend).",
        [
            _sample("ledgerx_queue_oldest_age_seconds", q["oldest_age_seconds"] or 0, {"queue": q["queue"]})
            for q in metrics["queues"]
        ],
    )
    latency = metrics["latency"]
    if latency is not None:
        family(
            "ledgerx_settlement_latency_seconds",
            "gauge",
            f"Acceptance to settlement, over spends accepted in the last {metrics['window_minutes']} minutes.",
            [
                _sample("ledgerx_settlement_latency_seconds", latency[key] / 1000, {"quantile": quantile})
                for key, quantile in (("p50_ms", "0.5"), ("p95_ms", "0.95"), ("p99_ms", "0.99"))
                if latency[key] is not None
            ],
        )
    histograms = metrics.get("settlement")
    if histograms is not None:
        for name, key, help_text in (
            ("ledgerx_settlement_batch_size", "batch_size", "Spends decided per settlement transaction."),
            (
                "ledgerx_settlement_latency_histogram_seconds",
                "settle_latency_seconds",
                "Acceptance to settlement of each spend, since the counters began.",
            ),
        ):
            histogram = histograms[key]
            family(
                name,
                "histogram",
                help_text,
                [_sample(f"{name}_bucket", b["count"], {"le": b["le"]}) for b in histogram["buckets"]]
                + [_sample(f"{name}_sum", histogram["sum"]), _sample(f"{name}_count", histogram["count"])],
            )
    family(
        "ledgerx_up",
        "gauge",
        "Whether a server answered (1) or not (0).",
        [
            _sample("ledgerx_up", int(metrics["postgresql"]["ok"]), {"server": "postgresql"}),
            _sample("ledgerx_up", int(metrics["redis"]["ok"]), {"server": "redis"}),
        ],
    )
    family(
        "ledgerx_workers_alive",
        "gauge",
        "Celery workers whose heartbeat is recent.",
        [_sample("ledgerx_workers_alive", sum(1 for w in metrics["workers"] if w["alive"]))],
    )
    return "\n".join(lines) + "\n"
