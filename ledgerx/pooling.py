"""The start-up check that PostgreSQL is reached directly or through a pooler in session pooling.

The settlement lock, the drain lease and the prepared statements belong to a server session
(ledgerx/db.py; docs/operations.md, "Connection poolers"). Behind a pooler in transaction or
statement pooling they would silently stop guarding anything, so the web server and the workers
refuse to start there, and say why.

How it tells: two client connections are opened and kept open together, and each asks for its
server session's process id after the other's statement has finished. Directly, or through session
pooling, each client holds a server session of its own for as long as it is connected, so the ids
differ. In transaction or statement pooling, the first client's session goes back to the pool when
its statement ends, and PgBouncer hands its most recently used idle session (its default,
`server_round_robin = 0`) to the second client: the same id.
"""

import psycopg
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections


class TransactionPoolingError(ImproperlyConfigured):
    pass


def session_pooling_problem(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why `alias` cannot carry LedgerX's session state, or None when each client has a session of its own."""
    params = connections[alias].get_connection_params()
    with psycopg.connect(**params, autocommit=True) as first, psycopg.connect(**params, autocommit=True) as second:
        first_session = first.execute("SELECT pg_backend_pid()").fetchone()[0]
        second_session = second.execute("SELECT pg_backend_pid()").fetchone()[0]
    if first_session != second_session:
        return None
    host = params.get("host") or "the local socket"
    return (
        f"The database at {host}:{params.get('port') or 5432} shares one server session between two "
        "connected clients: it is reached through a pooler in transaction or statement pooling. "
        "LedgerX's settlement lock, drain lease and prepared statements belong to a server session, "
        "so it needs session pooling (PgBouncer: pool_mode = session) or a direct connection "
        '(docs/operations.md, "Connection poolers").'
    )


def require_session_pooling(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Raise TransactionPoolingError, with the reason, where `alias` is behind transaction pooling."""
    if problem := session_pooling_problem(alias):
        raise TransactionPoolingError(problem)


@checks.register(checks.Tags.database)
def check_session_pooling(databases=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --database default` (and `migrate`, for the database it migrates) run this."""
    return [
        checks.Error(problem, id="ledgerx.E001")
        for alias in databases or []
        if (problem := session_pooling_problem(alias))
    ]
