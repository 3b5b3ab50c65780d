"""A process-local copy of recent token answers, used only while this process hears every forgetting.

Authenticating a request from the Redis copy cost about 150 µs of CPU (a round trip and unpickling
the user), a tenth of a spend's request. Each web process therefore keeps the answers it read for
LOCAL_SECONDS, and listens on a Redis channel on which revoking a token or changing a user says
"forget" once the Redis copy is gone (`announce_forget`); every process then drops its whole copy.

The copy is used only while the listener is subscribed and has heard from Redis (a message, or the
answer to its ping every PING_SECONDS) within SILENCE_SECONDS: a process that may have missed a
forgetting reads Redis or the database, as without this copy. An answer read while a forgetting
came in is not kept.
"""

import logging
import os
import pickle
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from .models import User

logger = logging.getLogger(__name__)

CHANNEL = "ledgerx:auth:forget"
LOCAL_SECONDS = 5.0
MAX_ENTRIES = 10_000
PING_SECONDS = 1.0
SILENCE_SECONDS = 3.0
RECONNECT_SECONDS = 1.0
_NEVER = float("-inf")


@dataclass(frozen=True)
class _Entry:
    # The token's active user, pickled: each request gets objects of its own, as from Redis, so that
    # what one request sets on its user (a permission cache, a half-made change) stays its own.
    user_pickle: bytes
    expires_at: datetime  # the token's own expiry
    kept_at: float


class _State:
    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.generation = 0  # advanced by every forgetting
        self.heard_at = _NEVER  # when the listener last heard from Redis on its subscription
        self.listener_pid: int | None = None
        self.outage_logged = False
        self.entries_lock = threading.Lock()
        self.start_lock = threading.Lock()


_state = _State()


def _forget_all() -> None:
    with _state.entries_lock:
        _state.generation += 1
        _state.entries.clear()


def listening() -> bool:
    """Whether this process hears forgettings: its listener heard from Redis within SILENCE_SECONDS."""
    return time.monotonic() - _state.heard_at <= SILENCE_SECONDS


def _listen_once() -> None:
    """Listen until the subscription fails or goes silent (raises either way)."""
    pubsub = get_redis_connection("default").pubsub()
    try:
        pubsub.subscribe(CHANNEL)
        subscribed_at = time.monotonic()
        pinged_at = _NEVER
        while True:
            now = time.monotonic()
            if now - max(_state.heard_at, subscribed_at) > SILENCE_SECONDS:
                raise TimeoutError("no answer from Redis on the subscription")
            if now - pinged_at >= PING_SECONDS:
                pubsub.ping()
                pinged_at = now
            message = pubsub.get_message(timeout=PING_SECONDS)
            if message is None:
                continue
            if message["type"] in ("message", "subscribe"):
                # A forgetting, or the start of listening: whatever was said before is unknown.
                _forget_all()
            if message["type"] == "subscribe":
                _state.outage_logged = False
            _state.heard_at = time.monotonic()
    finally:
        _state.heard_at = _NEVER
        _forget_all()
        pubsub.close()


def _listen() -> None:
    while True:
        try:
            _listen_once()
        except (RedisError, OSError) as error:
            if not _state.outage_logged:  # once per outage, not at every retry
                logger.warning("token cache listener lost Redis; reading Redis and the database meanwhile: %s", error)
                _state.outage_logged = True
        time.sleep(RECONNECT_SECONDS)


def _ensure_listener() -> None:
    """Start this process's listener once; a forked process starts its own (threads are not forked)."""
    pid = os.getpid()
    if _state.listener_pid == pid:
        return
    with _state.start_lock:
        if _state.listener_pid == pid:
            return
        _state.heard_at = _NEVER
        _forget_all()
        threading.Thread(target=_listen, name="token-cache-listener", daemon=True).start()
        _state.listener_pid = pid


def generation() -> int:
    """Take before reading an answer elsewhere, and give to `keep`."""
    _ensure_listener()
    return _state.generation


def lookup(key_hash: str, now: datetime) -> User | None:
    """A copy of the kept user of this token, if the answer is fresh, unexpired and the listener trusted."""
    entry = _state.entries.get(key_hash)
    if entry is None or not listening():
        return None
    if time.monotonic() - entry.kept_at > LOCAL_SECONDS or entry.expires_at <= now:
        return None
    return pickle.loads(entry.user_pickle)  # noqa: S301 - this process pickled it


def keep(key_hash: str, user: User, expires_at: datetime, read_generation: int) -> None:
    """Keep an answer read since `read_generation`, unless a forgetting came in meanwhile."""
    user_pickle = pickle.dumps(user, protocol=pickle.HIGHEST_PROTOCOL)
    with _state.entries_lock:
        if read_generation != _state.generation or not listening():
            return
        if len(_state.entries) >= MAX_ENTRIES:
            _state.entries.clear()
        _state.entries[key_hash] = _Entry(user_pickle, expires_at, time.monotonic())


def announce_forget() -> None:
    """Make every process drop its copy. Call once the Redis copy is gone, or one may read it again."""
    _forget_all()
    try:
        get_redis_connection("default").publish(CHANNEL, "forget")
    except RedisError as error:
        logger.warning("could not announce a token forgetting; processes keep answers %ss: %s", LOCAL_SECONDS, error)


def clear() -> None:
    """Drop this process's copy (tests start from nothing, as they do in Redis)."""
    _forget_all()
