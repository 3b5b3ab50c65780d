"""The layering of docs/architecture.md, read from the code: every import of every module, lazy ones included.

An app imports only apps in layers below its own, so no two apps import each other and nothing
reaches up; `ledgerx/` (the project's shared code) imports no app, except the root URLconf that
mounts them all.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. The same list, with the reason for each place, is in docs/architecture.md.
LAYERS = [
    {"tenancy"},
    {"audit"},
    {"ledger", "budgets", "webhooks", "fx", "scim", "push"},
    {"approvals", "controls", "fraud", "retention", "sso"},
    {"spending", "receipts"},
    {"nlq", "system", "reports", "reimbursements", "reconciliation", "exports", "payables"},
    {"web"},
]
LAYER_OF = {app: depth for depth, apps in enumerate(LAYERS) for app in apps}
# Modules over this many lines each do one job; a longer one is listed here with that job.
MODULE_LINES_MAX = 400
LONG_MODULES = {
    "apps/nlq/rules.py": "the rule-based parser's vocabulary and rules, one table each",
    "apps/nlq/spec.py": "the validated query spec every parser produces, and its plain-words rendering",
    "apps/fraud/evaluation.py": "the detectors' offline evaluation on a generated labelled history",
}


def _imported_modules(path: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return imported


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "apps" else None


def _app_imports() -> dict[str, dict[str, set[str]]]:
    """For each app, the other apps it imports, with the files that do."""
    found: dict[str, dict[str, set[str]]] = {}
    for path in sorted((ROOT / "apps").glob("*/**/*.py")):
        app = path.relative_to(ROOT / "apps").parts[0]
        for module in _imported_modules(path):
            other = _app_of(module)
            if other and other != app:
                found.setdefault(app, {}).setdefault(other, set()).add(str(path.relative_to(ROOT)))
    return found


def _upward(app_imports: dict[str, dict[str, set[str]]]) -> list[str]:
    """The imports that break the rule: of an app in the same layer or above."""
    return [
        f"{app} (layer {LAYER_OF[app]}) imports {other} (layer {LAYER_OF[other]}) in {', '.join(sorted(files))}"
        for app, others in sorted(app_imports.items())
        for other, files in sorted(others.items())
        if LAYER_OF[other] >= LAYER_OF[app]
    ]


def test_every_app_has_a_layer():
    apps = {path.parent.name for path in (ROOT / "apps").glob("*/apps.py")}
    assert apps == set(LAYER_OF)


def test_apps_import_only_the_layers_below_them():
    assert _upward(_app_imports()) == []


def test_tenancy_imports_no_other_app():
    assert _app_imports().get("tenancy", {}) == {}


def test_the_shared_package_imports_no_app_but_the_root_urlconf():
    importers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "ledgerx").rglob("*.py")
        if any(_app_of(module) for module in _imported_modules(path))
    )
    assert importers == ["ledgerx/urls.py"]


@pytest.mark.parametrize(
    ("app_imports", "expected"),
    [
        (
            {"spending": {"ledger": {"a.py"}}, "ledger": {"spending": {"b.py"}}},
            ["ledger (layer 2) imports spending (layer 4) in b.py"],
        ),
        ({"spending": {"ledger": {"a.py"}}}, []),
        ({"budgets": {"ledger": {"a.py"}}}, ["budgets (layer 2) imports ledger (layer 2) in a.py"]),
    ],
)
def test_the_rule_catches_an_upward_or_sideways_import(app_imports, expected):
    """The check itself, on made-up graphs: a cycle and a sideways import fail, a downward one passes."""
    assert _upward(app_imports) == expected


def test_long_modules_each_do_one_named_job():
    long_modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "apps").rglob("*.py")
        if "migrations" not in path.parts and len(path.read_text().splitlines()) > MODULE_LINES_MAX
    }
    assert long_modules <= set(LONG_MODULES), sorted(long_modules - set(LONG_MODULES))
