"""The triggers the architecture relies on, and whether the database still has them as installed.

Each app lists its own in `<app>/guarded_triggers.py` as GUARDED_TRIGGERS: the trigger, its table,
its function and the migration whose INSTALL SQL created them. What the database must hold is
derived from that SQL, never written down twice: the trigger's timing, events, level and
deferral, and a digest of the function's body with its language and security settings. When a
later migration replaces a function, its entry points at that migration instead.

`guarded_trigger_problems()` reads the catalogs and names every trigger that is missing, not
enabled in ordinary mode (`tgenabled = 'O'`: DISABLE, ENABLE REPLICA and ENABLE ALWAYS all fail),
defined differently, or running a function whose body is not the installed one; and, on a partitioned
table, every partition where a row trigger's clone is missing or not enabled so.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.apps import apps
from django.db import connection
from django.utils.module_loading import module_has_submodule

# pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h).
_ROW, _BEFORE, _INSTEAD = 1 << 0, 1 << 1, 1 << 6
_EVENTS = {"INSERT": 1 << 2, "DELETE": 1 << 3, "UPDATE": 1 << 4, "TRUNCATE": 1 << 5}

_TRIGGER = re.compile(
    r"CREATE\s+(?P<constraint>CONSTRAINT\s+)?TRIGGER\s+(?P<name>\w+)\s+(?P<timing>BEFORE|AFTER|INSTEAD\s+OF)\s+"
    r"(?P<events>.+?)\s+ON\s+(?P<table>\w+)\s+(?P<deferral>.*?)FOR\s+EACH\s+(?P<level>ROW|STATEMENT)\s+"
    r"EXECUTE\s+(?:FUNCTION|PROCEDURE)\s+(?P<function>\w+)\s*\(\s*\)\s*;",
    re.IGNORECASE | re.DOTALL,
)
_MODES = {"D": "disabled", "R": "enabled for replica only", "A": "enabled always", "O": "enabled"}
_REFERENCING = re.compile(r"REFERENCING(?:\s+(?:OLD|NEW)\s+TABLE\s+AS\s+\w+)+", re.IGNORECASE)
_TRANSITION_TABLE = re.compile(r"(OLD|NEW)\s+TABLE\s+AS\s+(\w+)", re.IGNORECASE)
_FUNCTION = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?P<name>\w+)\s*\(\s*\)\s*RETURNS\s+trigger\s+(?P<before>.*?)"
    r"AS\s+\$\$(?P<body>.*?)\$\$(?P<after>[^;]*);",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class GuardedTrigger:
    name: str
    table: str
    function: str
    migration: str  # the dotted module whose INSTALL SQL creates the trigger (and its function)
    # The module whose INSTALL creates the function, where an earlier migration did (default: `migration`).
    function_migration: str = ""

    @property
    def source(self) -> str:
        return import_module(self.migration).INSTALL

    @property
    def function_source(self) -> str:
        return import_module(self.function_migration).INSTALL if self.function_migration else self.source


def trigger_statement(migration: str, name: str) -> str:
    """The CREATE TRIGGER statement of trigger `name` in `migration`'s INSTALL SQL, for a later migration
    that makes the trigger again on a rebuilt table exactly as it was first installed."""
    source = import_module(migration).INSTALL
    statement = next((m for m in _TRIGGER.finditer(source) if m["name"] == name), None)
    if statement is None:
        raise ValueError(f"{migration} does not create trigger {name} as this reader understands it.")
    return statement[0]


@dataclass(frozen=True)
class Expected:
    tgtype: int
    deferrable: bool
    initially_deferred: bool
    constraint: bool
    function_digest: str
    # The names its transition tables have (REFERENCING OLD TABLE AS ... NEW TABLE AS ...), or None.
    old_table: str | None = None
    new_table: str | None = None


def function_digest(*, body: str, language: str, security_definer: bool, config: list[str] | None) -> str:
    """What a trigger function does: its source, language, security and SET options."""
    fingerprint = json.dumps([body, language.lower(), security_definer, sorted(config or [])])
    return hashlib.sha256(fingerprint.encode()).hexdigest()


@cache
def expected(trigger: GuardedTrigger) -> Expected:
    """What the database must hold for `trigger`, read from its migration's SQL.

    Raises ValueError on a definition this reader does not understand (WHEN, UPDATE OF, arguments,
    SET options), so that a new entry is refused at once rather than checked wrongly.
    """
    source = trigger.source
    statement = next((m for m in _TRIGGER.finditer(source) if m["name"] == trigger.name), None)
    if statement is None:
        raise ValueError(f"{trigger.migration} does not create trigger {trigger.name} as this reader understands it.")
    if (statement["table"], statement["function"]) != (trigger.table, trigger.function):
        raise ValueError(f"{trigger.migration} creates {trigger.name} on another table or with another function.")
    tgtype = _ROW if statement["level"].upper() == "ROW" else 0
    timing = statement["timing"].upper()
    tgtype |= _BEFORE if timing == "BEFORE" else _INSTEAD if timing.startswith("INSTEAD") else 0
    for event in re.split(r"\s+OR\s+", statement["events"].strip(), flags=re.IGNORECASE):
        if event.upper() not in _EVENTS:
            raise ValueError(f"Trigger {trigger.name}: event '{event}' is not supported here.")
        tgtype |= _EVENTS[event.upper()]
    referencing = _REFERENCING.match(statement["deferral"].strip())
    transition_tables = dict(_TRANSITION_TABLE.findall(referencing[0])) if referencing else {}
    deferral = " ".join(statement["deferral"].strip()[referencing.end() if referencing else 0 :].upper().split())
    if deferral not in ("", "DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE INITIALLY IMMEDIATE", "NOT DEFERRABLE"):
        raise ValueError(f"Trigger {trigger.name}: '{deferral}' is not supported here.")

    function = next((m for m in _FUNCTION.finditer(trigger.function_source) if m["name"] == trigger.function), None)
    if function is None:
        raise ValueError(f"{trigger.function_migration or trigger.migration} does not create {trigger.function}().")
    options = f"{function['before']} {function['after']}"
    language = re.search(r"LANGUAGE\s+(\w+)", options, re.IGNORECASE)
    if language is None or re.search(r"\bSET\b", options, re.IGNORECASE):
        raise ValueError(f"Function {trigger.function}(): options '{options.strip()}' are not supported here.")
    return Expected(
        tgtype=tgtype,
        deferrable=deferral.startswith("DEFERRABLE"),
        initially_deferred=deferral == "DEFERRABLE INITIALLY DEFERRED",
        constraint=statement["constraint"] is not None,
        function_digest=function_digest(
            body=function["body"],
            language=language[1],
            security_definer=re.search(r"SECURITY\s+DEFINER", options, re.IGNORECASE) is not None,
            config=None,
        ),
        old_table={key.upper(): name for key, name in transition_tables.items()}.get("OLD"),
        new_table={key.upper(): name for key, name in transition_tables.items()}.get("NEW"),
    )


def refuses_truncate(trigger: GuardedTrigger) -> bool:
    return bool(expected(trigger).tgtype & _EVENTS["TRUNCATE"])


def guarded_triggers() -> list[GuardedTrigger]:
    """Every installed app's GUARDED_TRIGGERS."""
    found: list[GuardedTrigger] = []
    for app_config in apps.get_app_configs():
        if module_has_submodule(app_config.module, "guarded_triggers"):
            found += import_module(f"{app_config.name}.guarded_triggers").GUARDED_TRIGGERS
    return found


_CATALOG_SQL = """
SELECT c.relname, t.tgname, t.tgenabled, t.tgtype, t.tgdeferrable, t.tginitdeferred, t.tgconstraint <> 0,
       t.tgqual IS NOT NULL OR t.tgnargs <> 0 OR cardinality(t.tgattr::int2[]) <> 0,
       p.proname, pn.nspname = current_schema(), p.prosrc, l.lanname, p.prosecdef, p.proconfig,
       t.tgoldtable, t.tgnewtable
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid AND c.relnamespace = current_schema()::regnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE NOT t.tgisinternal AND t.tgname = ANY(%s)
"""


def guarded_trigger_problems(triggers: list[GuardedTrigger] | None = None) -> list[str]:
    """Name every guarded trigger the database no longer has exactly as its migration installed it."""
    triggers = guarded_triggers() if triggers is None else triggers
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG_SQL, [[trigger.name for trigger in triggers]])
        installed = {(row[0], row[1]): row[2:] for row in cursor.fetchall()}
    problems = []
    for trigger in triggers:
        want = expected(trigger)
        row = installed.get((trigger.table, trigger.name))
        if row is None:
            problems.append(f"Trigger {trigger.name} on {trigger.table} is not installed.")
            continue
        enabled, tgtype, deferrable, initially_deferred, constraint, narrowed, function, own_schema, *code = row[:12]
        old_table, new_table = row[12:]
        if enabled != "O":
            mode = _MODES.get(enabled, enabled)
            problems.append(
                f"Trigger {trigger.name} on {trigger.table} is {mode}; it must be enabled in ordinary mode (ENABLE)."
            )
        if (tgtype, deferrable, initially_deferred, constraint, narrowed) != (
            want.tgtype,
            want.deferrable,
            want.initially_deferred,
            want.constraint,
            False,
        ) or (old_table, new_table) != (want.old_table, want.new_table):
            problems.append(
                f"Trigger {trigger.name} on {trigger.table} is not defined as {trigger.migration} installed it "
                "(its timing, events, level, deferral, transition tables or condition changed)."
            )
        if (function, own_schema) != (trigger.function, True):
            problems.append(f"Trigger {trigger.name} runs {function}(), not {trigger.function}().")
            continue
        body, language, security_definer, config = code
        digest = function_digest(body=body, language=language, security_definer=security_definer, config=config)
        if digest != want.function_digest:
            problems.append(
                f"Function {trigger.function}() behind trigger {trigger.name} is not the one {trigger.migration} "
                f"installed: it was replaced or altered (digest {digest[:12]}, expected {want.function_digest[:12]})."
            )
    return problems + _partition_clone_problems(triggers)


# A row trigger of a partitioned table runs as its clone on each partition, which can be switched there alone;
# switched on the table, the clones follow it, and the table's own state names the problem.
_CLONES_SQL = """
SELECT t.tgname, p.relname, c.relname, clone.tgenabled
FROM pg_trigger t
JOIN pg_class p ON p.oid = t.tgrelid AND p.relnamespace = current_schema()::regnamespace AND p.relkind = 'p'
JOIN pg_inherits i ON i.inhparent = p.oid
JOIN pg_class c ON c.oid = i.inhrelid
LEFT JOIN pg_trigger clone ON clone.tgrelid = c.oid AND clone.tgparentid = t.oid
WHERE NOT t.tgisinternal AND t.tgname = ANY(%s) AND t.tgtype & 1 = 1 AND clone.tgenabled IS DISTINCT FROM t.tgenabled
ORDER BY 1, 3
"""


def _partition_clone_problems(triggers: list[GuardedTrigger]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_CLONES_SQL, [[trigger.name for trigger in triggers]])
        return [
            f"Trigger {name} of {table} is {_MODES.get(enabled, 'missing')} on its partition {partition}; "
            "it must be enabled in ordinary mode there too (ENABLE)."
            for name, table, partition, enabled in cursor.fetchall()
        ]
