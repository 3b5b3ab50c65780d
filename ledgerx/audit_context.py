"""Who is changing the database, for the audit log's capture triggers (apps/audit, migration 0007).

The triggers read the transaction-local setting `ledgerx.audit_context` (JSON: actor, user_id,
origin, id). It is set here, by a database execute wrapper, immediately before each statement that
writes an audited table, in that statement's transaction: `set_config(..., is_local => true)`
lasts until the transaction ends, so nothing carries over to the connection's next request or
task, and a pooler in transaction mode (PgBouncer) cannot hand it to another client. A write
outside any transaction is wrapped in one for the purpose. Statements that write no audited table
(the spend intake's INSERT) pay one regular expression in Python and no round trip.

Who the actor is comes from the innermost `audit_context` around the code: the request (the
middleware below; the user is read when the write happens, so a user authenticated by DRF's token
in the view is the one recorded), the Celery task (ledgerx/celery.py), the management command
(`command_audit_context`, installed by apps/audit). A write with no context, such as raw SQL in a
console, is recorded by the trigger as the database role and application name.
"""

import json
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from functools import wraps

from django.db import transaction

from .ratelimit import client_ip

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class AuditActor:
    label: str  # "user:<email>", "task:<name>", "command:<name> --as <email>", "anonymous"
    user_id: str | None = None
    origin: dict = field(default_factory=dict)
    context_id: str = ""

    def setting(self) -> str:
        return json.dumps({"actor": self.label, "user_id": self.user_id, "origin": self.origin, "id": self.context_id})


# An actor, or a function giving it when a write happens (a request's user is known only then).
_current: ContextVar[AuditActor | Callable[[], AuditActor] | None] = ContextVar("audit_actor", default=None)


def audit_context_enter(actor: AuditActor | Callable[[], AuditActor]) -> Token:
    return _current.set(actor)


def audit_context_leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def audit_context(actor: AuditActor | Callable[[], AuditActor]) -> Iterator[None]:
    """Writes to audited tables inside the block are recorded as `actor`'s."""
    token = audit_context_enter(actor)
    try:
        yield
    finally:
        audit_context_leave(token)


def current_actor() -> AuditActor | None:
    actor = _current.get()
    return actor() if callable(actor) else actor


def process_origin() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


# Every INSERT INTO, UPDATE and DELETE FROM in a statement, CTEs included, and the table it names.
_WRITE = re.compile(r'\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


class AuditContextSetter:
    """A database execute wrapper that sets `ledgerx.audit_context` before writes to audited tables."""

    def __init__(self, audited_writes: dict[str, tuple[str, ...]]) -> None:
        self.audited = {(operation, table) for table, operations in audited_writes.items() for operation in operations}

    def writes_audited_table(self, sql: str) -> bool:
        return any((match[1].split(None, 1)[0].upper(), match[2]) in self.audited for match in _WRITE.finditer(sql))

    def __call__(self, execute, sql, params, many, context):
        if _current.get() is None or not isinstance(sql, str) or not self.writes_audited_table(sql):
            return execute(sql, params, many, context)
        setting = current_actor().setting()
        connection, cursor = context["connection"], context["cursor"]
        if not connection.get_autocommit():
            cursor.execute("SELECT set_config('ledgerx.audit_context', %s, true)", [setting])
            return execute(sql, params, many, context)
        with transaction.atomic(using=connection.alias):
            cursor.execute("SELECT set_config('ledgerx.audit_context', %s, true)", [setting])
            return execute(sql, params, many, context)


def install_audit_context_setter(connection, setter: AuditContextSetter) -> None:
    """Add `setter` to `connection`'s execute wrappers (the list outlives reconnections: once is enough)."""
    if not any(isinstance(wrapper, AuditContextSetter) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.append(setter)


def request_actor(request) -> AuditActor:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return AuditActor(
        label=f"user:{user.email}" if authenticated else "anonymous",
        user_id=str(user.pk) if authenticated else None,
        origin={
            "address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
            "request": f"{request.method} {request.path}"[:USER_AGENT_MAX],
        },
        context_id=request.META.get("HTTP_X_REQUEST_ID", "")[:64] or request.audit_context_id,
    )


def request_audit_context(get_response):
    """Middleware (after authentication): the request's writes are its user's."""

    def middleware(request):
        request.audit_context_id = uuid.uuid4().hex
        with audit_context(lambda: request_actor(request)):
            return get_response(request)

    return middleware


def command_actor(name: str, options: dict) -> Callable[[], AuditActor]:
    """A management command's actor: its name, and the user it acts as (`--as`, dest `actor`)."""
    acting_as = options.get("actor")
    if not isinstance(acting_as, str):
        actor = AuditActor(label=f"command:{name}", origin=process_origin(), context_id=uuid.uuid4().hex)
        return lambda: actor
    resolved: list[AuditActor] = []

    def actor() -> AuditActor:
        # Looked up at the first write: the command itself refuses an unknown --as before writing.
        if not resolved:
            from django.contrib.auth import get_user_model

            user_id = (
                get_user_model()._default_manager.filter(email__iexact=acting_as).values_list("pk", flat=True).first()
            )
            resolved.append(
                AuditActor(
                    label=f"command:{name} --as {acting_as}",
                    user_id=None if user_id is None else str(user_id),
                    origin=process_origin(),
                    context_id=uuid.uuid4().hex,
                )
            )
        return resolved[0]

    return actor


def command_audit_context(execute):
    """Wraps BaseCommand.execute: Django has no hook around a command, and every command's writes,
    the console's (`shell`) included, must be recorded as that command's.
    """

    @wraps(execute)
    def audited_execute(self, /, *args, **options):  # positional-only: `shell` has an option named command
        name = type(self).__module__.rsplit(".", 1)[-1]
        with audit_context(command_actor(name, options)):
            return execute(self, *args, **options)

    audited_execute.audit_context = True
    return audited_execute
