"""archive_year and verify_archive on a closed year made through the real services (conftest)."""

import json
import shutil
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, ProgrammingError, transaction

from apps.audit.models import AuditEvent
from apps.ledger.closing import month_reopen
from apps.ledger.models import Entry, EntrySeal
from apps.retention.archive import archive_write
from apps.retention.models import RetentionArchive
from apps.retention.selectors import archive_verify
from tests.owner import owner_cursor, triggers_off

from .conftest import CLOSED_2026, CLOSED_2027, archive, close_every_month, lines_of, rewrite, seal_everything

pytestmark = pytest.mark.django_db(transaction=True)


def _verify_output(directory) -> str:
    out = StringIO()
    call_command("verify_archive", str(directory), stdout=out)
    return out.getvalue()


def test_a_closed_year_is_archived_recorded_audited_and_verifies(closed_year, tmp_path):
    tenant = closed_year.tenant
    printed = archive(closed_year, tmp_path / "2026", actor=tenant.finance)

    record = RetentionArchive.objects.get()
    assert (record.organization, record.year, record.created_by) == (tenant.organization, 2026, tenant.finance)
    assert record.path == str((tmp_path / "2026").resolve())
    assert f"manifest SHA-256 {record.manifest_sha256}" in printed
    event = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION_YEAR_ARCHIVED)
    assert (event.organization_id, event.actor, event.target_id) == (
        tenant.organization.id,
        tenant.finance,
        str(record.id),
    )
    assert event.after == {"year": 2026, "manifest_sha256": record.manifest_sha256, "path": record.path}

    manifest = json.loads((tmp_path / "2026" / "manifest.json").read_text())
    # Two spends and a reversal of 2026, two legs each; the spend of 2027 is the next year's.
    assert manifest["files"]["ledger_transactions.jsonl.gz"]["rows"] == 3
    assert manifest["files"]["ledger_entries.jsonl.gz"]["rows"] == 6
    assert manifest["files"]["ledger_entry_seals.jsonl.gz"]["rows"] == 6
    ledger = manifest["chains"]["ledger"]
    assert (ledger["opening_sequence"], ledger["closing_sequence"]) == (0, 6)
    assert ledger["closing_hash"] == EntrySeal.objects.get(organization_id=tenant.organization.id, sequence=6).hash
    assert manifest["files"]["audit_changes.jsonl.gz"]["rows"] > 0
    assert manifest["chains"]["audit"]["closing_sequence"] == manifest["files"]["audit_changes.jsonl.gz"]["rows"]

    assert archive_verify(tmp_path / "2026").problems == []
    assert "(ledger: 6 links and 1 checkpoints recomputed; audit: " in _verify_output(tmp_path / "2026")


def test_the_same_year_archived_twice_is_byte_identical(closed_year, tmp_path):
    """Twice from one snapshot: between two runs of the command, the first one's own audit event would
    join this test's audit chain of 2026, since the database stamps audit changes with the real clock
    (in production that event is years after the archived year)."""
    organization = closed_year.tenant.organization
    seal_everything()
    with time_machine.travel(CLOSED_2026, tick=True), transaction.atomic():
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            archive_write(organization=organization, year=2026, directory=tmp_path / name)

    names = sorted(path.name for path in (tmp_path / "first").iterdir())
    assert names == sorted(path.name for path in (tmp_path / "second").iterdir())
    assert len(names) == 10
    for name in names:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


def test_the_command_run_twice_writes_the_same_ledger(closed_year, tmp_path):
    archive(closed_year, tmp_path / "first")
    archive(closed_year, tmp_path / "second")

    for name in ("ledger_transactions", "ledger_entries", "ledger_entry_seals", "ledger_checkpoints"):
        first, second = (tmp_path / each / f"{name}.jsonl.gz" for each in ("first", "second"))
        assert first.read_bytes() == second.read_bytes(), name
    assert RetentionArchive.objects.count() == 2
    assert archive_verify(tmp_path / "second").problems == []


def test_the_next_year_starts_where_the_closed_one_ended(closed_year, tmp_path):
    archive(closed_year, tmp_path / "2026")
    close_every_month(closed_year.tenant, 2027)
    archive(closed_year, tmp_path / "2027", at=CLOSED_2027, number=2027)

    first = json.loads((tmp_path / "2026" / "manifest.json").read_text())["chains"]
    second = json.loads((tmp_path / "2027" / "manifest.json").read_text())["chains"]
    # The ledger's only: the first archive's audit event joins the audit chain of the real 2026 (above).
    assert second["ledger"]["opening_sequence"] == first["ledger"]["closing_sequence"] == 6
    assert second["ledger"]["opening_hash"] == first["ledger"]["closing_hash"]
    assert second["ledger"]["opening_signature"] == first["ledger"]["closing_signature"]
    assert second["ledger"]["closing_sequence"] == 8  # the spend of 1 January 2027
    assert archive_verify(tmp_path / "2027").problems == []


@pytest.fixture
def archived(closed_year, tmp_path):
    directory = tmp_path / "2026"
    archive(closed_year, directory)
    assert archive_verify(directory).problems == []
    return directory


def test_an_archived_entry_edited_is_detected(archived):
    entries = archived / "ledger_entries.jsonl.gz"
    lines = lines_of(entries)
    row = json.loads(lines[1])
    lines[1] = lines[1].replace(f'"amount_minor":{row["amount_minor"]},'.encode(), b'"amount_minor":1,')
    rewrite(entries, lines)

    problems = archive_verify(archived).problems
    assert "ledger_entries.jsonl.gz does not match its SHA-256 in the manifest: it was changed." in problems
    assert f"Entry {row['id']} was changed after it was sealed: it no longer matches its hash (sequence 2)." in problems
    with pytest.raises(CommandError, match="problems found"):
        _verify_output(archived)


def test_an_archived_audit_change_edited_is_detected_by_the_chain_alone(archived, settings):
    """Re-signed with the key, so that only the chain walk can tell."""
    changes = archived / "audit_changes.jsonl.gz"
    lines = lines_of(changes)
    row = json.loads(lines[0])
    lines[0] = lines[0].replace(b'"operation":"INSERT"', b'"operation":"DELETE"')
    rewrite(changes, lines)
    _resign(archived)

    problems = archive_verify(archived).problems
    assert f"Audit change {row['id']} was changed after it was sealed: it no longer matches its hash (sequence 1)." in (
        problems
    )
    assert not any("SHA-256" in problem or "HMAC" in problem for problem in problems)


def test_an_archived_checkpoint_rewritten_is_detected(archived):
    """Even with the manifest re-signed, a checkpoint's signature needs the key of its own domain."""
    checkpoints = archived / "ledger_checkpoints.jsonl.gz"
    lines = lines_of(checkpoints)
    row = json.loads(lines[-1])
    lines[-1] = lines[-1].replace(f'"head_hash":"{row["head_hash"]}"'.encode(), b'"head_hash":"' + b"f" * 64 + b'"')
    rewrite(checkpoints, lines)
    _resign(archived)

    problems = archive_verify(archived).problems
    where = f"Checkpoint at link {row['sequence']} of the ledger chain"
    assert f"{where} does not match its signature: it was rewritten or forged." in problems


def test_an_archived_entry_removed_is_detected(archived):
    entries = archived / "ledger_entries.jsonl.gz"
    seals = archived / "ledger_entry_seals.jsonl.gz"
    rewrite(entries, lines_of(entries)[:-1])
    rewrite(seals, lines_of(seals)[:-1])

    problems = archive_verify(archived).problems
    assert "ledger_entries.jsonl.gz holds 5 rows, the manifest says 6." in problems
    assert "The ledger chain ends at link 5, not at its closing boundary 6." in problems


def test_an_edited_manifest_is_detected(archived):
    manifest = archived / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"year": 2026', '"year": 2025'))

    assert archive_verify(archived).problems == [
        "The manifest does not match its HMAC: it was edited, or signed with another key."
    ]


def test_an_archived_row_that_is_not_json_is_named(archived):
    entries = archived / "ledger_entries.jsonl.gz"
    rewrite(entries, [b"not json\n", *lines_of(entries)[1:]])
    _resign(archived)

    [problem] = archive_verify(archived).problems
    assert problem.startswith("The ledger chain's files cannot be read as an archive:")


def test_a_missing_file_is_detected(archived):
    (archived / "audit_events.jsonl.gz").unlink()

    assert "audit_events.jsonl.gz is missing." in archive_verify(archived).problems


def test_an_open_year_is_refused(closed_year, tmp_path):
    with pytest.raises(CommandError, match="2026 is not closed"):
        archive(closed_year, tmp_path / "2026", at=CLOSED_2027.replace(year=2033, month=12, day=31))
    assert not (tmp_path / "2026").exists()
    assert not RetentionArchive.objects.exists()


def test_a_year_with_a_month_open_is_refused(closed_year, tmp_path):
    month_reopen(actor=closed_year.tenant.admin, month=date(2026, 12, 1), reason="Late invoice")
    with pytest.raises(CommandError, match=r"2026 is not closed: .* every month of it \(2026-12 open\)"):
        archive(closed_year, tmp_path / "2026")
    assert not RetentionArchive.objects.exists()


def test_a_tampered_ledger_is_refused_before_archiving(closed_year, tmp_path):
    entry = Entry.objects.filter(transaction=closed_year.spends[1]).order_by("amount_minor").first()
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute("UPDATE ledger_entry SET account_id = account_id WHERE id = %s", [entry.id])
        cursor.execute(
            "UPDATE ledger_entry SET created_at = created_at + interval '1 second' WHERE id = %s", [entry.id]
        )

    with pytest.raises(CommandError, match=r"verify_ledger finds \d+ problems, so nothing was archived.*changed after"):
        archive(closed_year, tmp_path / "2026")
    assert not any((tmp_path / "2026").iterdir())
    assert not RetentionArchive.objects.exists()


def test_the_commands_errors(closed_year, tmp_path):
    tenant = closed_year.tenant
    with pytest.raises(CommandError, match="No organization 'nowhere'"):
        call_command("archive_year", "--organization", "nowhere", "--year", "2026", "--output", str(tmp_path / "a"))
    with (
        time_machine.travel(CLOSED_2026, tick=True),
        pytest.raises(CommandError, match="--as must name a finance manager or org admin"),
    ):
        call_command(
            "archive_year",
            "--organization",
            tenant.organization.slug,
            "--year",
            "2026",
            "--output",
            str(tmp_path / "a"),
            "--as",
            tenant.employee.email,
        )
    with pytest.raises(CommandError, match="99999 is not a year of the ledger"):
        archive(closed_year, tmp_path / "a", number=99999)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other").write_text("not ours")
    with pytest.raises(CommandError, match="is not an empty directory"):
        archive(closed_year, tmp_path / "full")
    with pytest.raises(CommandError, match="1 problems found"):
        call_command("verify_archive", str(tmp_path / "nothing"), stdout=StringIO())
    assert not RetentionArchive.objects.exists()


def test_the_record_of_archives_is_append_only(archived):
    record = RetentionArchive.objects.get()
    with pytest.raises((IntegrityError, InternalError, ProgrammingError), match="append-only"):
        RetentionArchive.objects.filter(id=record.id).update(path="/elsewhere")


def _resign(directory) -> None:
    """What someone holding the key could do: the manifest made to match the files again."""
    from apps.retention.archive import file_digest, manifest_signature

    manifest = json.loads((directory / "manifest.json").read_text())
    for name in manifest["files"]:
        sha256, rows = file_digest(directory / name)
        manifest["files"][name] = {"rows": rows, "sha256": sha256}
    content = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (directory / "manifest.json").write_bytes(content)
    (directory / "manifest.hmac").write_text(manifest_signature(content) + "\n")


def test_a_copy_of_an_archive_verifies_anywhere(archived, tmp_path):
    shutil.copytree(archived, tmp_path / "copy")
    assert archive_verify(tmp_path / "copy").problems == []
