"""Where the machine's CPU went during a phase: per process group, from /proc (Linux).

Throughput figures on two shared cores are noisy; CPU time per request is steadier and says which
process the time went to (the web server, PostgreSQL, Redis, the load generator in this process).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
GROUPS = (("postgres", "postgres"), ("redis", "redis-server"), ("web", "-m ledgerx.web"), ("workers", "celery"))


def _group(pid: int, command: str) -> str:
    if pid == os.getpid():
        return "load_generator"
    for name, marker in GROUPS:
        if marker in command:
            return name
    return "other"


def cpu_seconds_by_group() -> dict[str, float]:
    """User plus system CPU seconds so far of every live process, summed per group."""
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, and those of its children that ended (PostgreSQL's backends, the web server's workers)
        ticks = sum(int(value) for value in fields[11:15])
        group = _group(int(entry.name), command or stat[stat.index("(") + 1 : stat.rindex(")")])
        totals[group] = totals.get(group, 0.0) + ticks / TICKS_PER_SECOND
    return totals


@dataclass
class CpuMeter:
    """CPU seconds spent per group between start() and seconds().

    A process that ended in between is counted in its parent's children time, so it is lost only
    when its parent is not in the same group (rare: each group is a server and its children).
    """

    started: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.started = cpu_seconds_by_group()

    def seconds(self) -> dict[str, float]:
        now = cpu_seconds_by_group()
        return {group: now.get(group, 0.0) - self.started.get(group, 0.0) for group in now}


def per_request_ms(seconds_by_group: dict[str, float], requests: int) -> dict[str, float]:
    figures = {group: round(seconds * 1000 / requests, 3) for group, seconds in sorted(seconds_by_group.items())}
    figures["total"] = round(sum(seconds_by_group.values()) * 1000 / requests, 3)
    return figures
