"""Sliding windows of each employee's spends in Redis, added to and measured in one atomic Lua script.

One sorted set per (organization, employee): score = when the spend was made (ms since the epoch),
member = "<transaction id>:<amount in minor units>". Windows are measured in event time, so a spend
scored late (by the sweeper, after a restart) is counted where it happened, and adding the same
spend twice (ZADD NX) counts it once.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django_redis import get_redis_connection

# Entries are kept this long past the longest window, so a spend scored a little out of order still
# sees the spends just before it.
RETAIN_EXTRA_MS = 3600 * 1000

_MEASURE = """
local at = tonumber(ARGV[1])
local retain = tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], 'NX', at, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - retain))
local count = redis.call('ZCOUNT', KEYS[1], '(' .. (at - tonumber(ARGV[3])), at)
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (at - tonumber(ARGV[4])), at)
local total = 0
for _, member in ipairs(members) do
    total = total + tonumber(string.match(member, ':(%d+)$'))
end
redis.call('PEXPIRE', KEYS[1], retain)
return {count, #members, string.format('%.0f', total)}
"""


@dataclass(frozen=True)
class WindowMeasure:
    count: int  # spends in the count window ending at this spend, this one included
    amount_count: int  # spends in the amount window
    amount_minor: int  # their total


def window_key(*, organization_id: uuid.UUID, employee_id: uuid.UUID) -> str:
    return f"ledgerx:fraud:velocity:{organization_id}:{employee_id}"


def window_add_and_measure(
    *,
    organization_id: uuid.UUID,
    employee_id: uuid.UUID,
    transaction_id: uuid.UUID,
    amount_minor: int,
    at: datetime,
    count_window_seconds: int,
    amount_window_seconds: int,
) -> WindowMeasure:
    connection = get_redis_connection("default")
    at_ms = int(at.timestamp() * 1000)
    retain_ms = max(count_window_seconds, amount_window_seconds) * 1000 + RETAIN_EXTRA_MS
    count, amount_count, total = connection.register_script(_MEASURE)(
        keys=[window_key(organization_id=organization_id, employee_id=employee_id)],
        args=[
            at_ms,
            f"{transaction_id}:{amount_minor}",
            count_window_seconds * 1000,
            amount_window_seconds * 1000,
            retain_ms,
        ],
    )
    return WindowMeasure(count=int(count), amount_count=int(amount_count), amount_minor=int(total))
