"""Writing a self-verifying archive of one organization's closed year (docs/operations.md, Retention).

Each chain (the ledger's entries, the audit log's changes) is archived as a contiguous range of
links between two signed checkpoints: the opening one, the first checkpoint at or after the last
link of a row written before the year began (none: the chain's start), and the closing one, the
same for the year's end. So the range starts where the previous year's archive ends, its first
link's prev_hash is a signed head, and its last link is one. A few rows written just after the year
can be in it (sealed in the same run as its last ones); the next year's archive starts after them.

Rows are written as PostgreSQL's own JSON of each row (row_to_json), in chain order, so that
verification can hand them back to PostgreSQL and recompute each link's payload exactly as the
chain's spec writes it. Files are gzip with a fixed header: the same year gives the same bytes.
"""

import gzip
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from apps.audit.chain import AUDIT_CHAIN
from apps.ledger.chain import LEDGER_CHAIN
from apps.tenancy.models import Organization
from ledgerx.errors import Conflict
from ledgerx.hash_chain import GENESIS_HASH, HashChain

from .periods import year_bounds

ARCHIVE_FORMAT = "ledgerx-retention-archive/1"
MANIFEST = "manifest.json"
MANIFEST_HMAC = "manifest.hmac"
# Prefixed to the signed manifest, so that no checkpoint signature is ever a manifest's.
MANIFEST_DOMAIN = b"retention-archive|"
READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class ArchivedChain:
    name: str
    chain: HashChain
    rows_file: str
    seals_file: str
    checkpoints_file: str


ARCHIVED_CHAINS = (
    ArchivedChain(
        "ledger", LEDGER_CHAIN, "ledger_entries.jsonl.gz", "ledger_entry_seals.jsonl.gz", "ledger_checkpoints.jsonl.gz"
    ),
    ArchivedChain(
        "audit", AUDIT_CHAIN, "audit_changes.jsonl.gz", "audit_change_seals.jsonl.gz", "audit_checkpoints.jsonl.gz"
    ),
)
TRANSACTIONS_FILE = "ledger_transactions.jsonl.gz"
EVENTS_FILE = "audit_events.jsonl.gz"
ARCHIVE_FILES = frozenset(
    {TRANSACTIONS_FILE, EVENTS_FILE}
    | {name for each in ARCHIVED_CHAINS for name in (each.rows_file, each.seals_file, each.checkpoints_file)}
)


class ArchiveRefused(Conflict):
    code = "archive_refused"


def manifest_signature(manifest: bytes) -> str:
    return hmac.new(settings.LEDGER_CHECKPOINT_KEY.encode(), MANIFEST_DOMAIN + manifest, hashlib.sha256).hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 of the file's bytes, and how many lines (rows) it holds uncompressed."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        while chunk := raw.read(READ_BUFFER):
            digest.update(chunk)
    rows = 0
    with gzip.open(path, "rb") as lines:
        for _ in lines:
            rows += 1
    return digest.hexdigest(), rows


def _export(path: Path, sql: str, params: list[Any]) -> dict[str, Any]:
    """Stream the query's single text column into a gzip JSON Lines file (server-side cursor)."""
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out,
        connection.chunked_cursor() as cursor,
    ):
        cursor.execute(sql, params)
        for (line,) in cursor:
            out.write(line.encode() + b"\n")
    sha256, rows = file_digest(path)
    return {"rows": rows, "sha256": sha256}


def _boundary(archived: ArchivedChain, *, organization_id: uuid.UUID, before: datetime) -> dict[str, Any]:
    """The signed checkpoint at or after the chain's last link of a row written before `before`."""
    chain = archived.chain
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(s.sequence) FROM {chain.seals} s JOIN {chain.rows} r ON r.id = s.{chain.link}"
            f" WHERE s.organization_id = %s AND {chain.created} < %s",
            [organization_id, before],
        )
        (last,) = cursor.fetchone()
        if not last:
            return {"sequence": 0, "hash": GENESIS_HASH, "signature": None}
        cursor.execute(
            f"SELECT sequence, head_hash, signature FROM {chain.checkpoints}"
            " WHERE organization_id = %s AND sequence >= %s ORDER BY sequence LIMIT 1",
            [organization_id, last],
        )
        found = cursor.fetchone()
    if found is None:
        raise ArchiveRefused(
            f"Link {last} of the {archived.name} chain is covered by no checkpoint yet: let the sealer run first."
        )
    sequence, head_hash, signature = found
    return {"sequence": sequence, "hash": head_hash, "signature": signature}


def _chain_export(
    archived: ArchivedChain, directory: Path, *, organization_id: uuid.UUID, start: datetime, end: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    chain = archived.chain
    opening = _boundary(archived, organization_id=organization_id, before=start)
    closing = _boundary(archived, organization_id=organization_id, before=end)
    links = [organization_id, opening["sequence"], closing["sequence"]]
    in_range = "s.organization_id = %s AND s.sequence > %s AND s.sequence <= %s"
    files = {
        archived.rows_file: _export(
            directory / archived.rows_file,
            f"SELECT row_to_json(r)::text FROM {chain.seals} s JOIN {chain.rows} r ON r.id = s.{chain.link}"
            f" WHERE {in_range} ORDER BY s.sequence",
            links,
        ),
        archived.seals_file: _export(
            directory / archived.seals_file,
            f"SELECT row_to_json(s)::text FROM {chain.seals} s WHERE {in_range} ORDER BY s.sequence",
            links,
        ),
        # The opening checkpoint too: it signs the hash the first link follows.
        archived.checkpoints_file: _export(
            directory / archived.checkpoints_file,
            f"SELECT row_to_json(c)::text FROM {chain.checkpoints} c"
            " WHERE c.organization_id = %s AND c.sequence >= %s AND c.sequence <= %s ORDER BY c.sequence",
            links,
        ),
    }
    boundary = {
        "opening_sequence": opening["sequence"],
        "opening_hash": opening["hash"],
        "opening_signature": opening["signature"],
        "closing_sequence": closing["sequence"],
        "closing_hash": closing["hash"],
        "closing_signature": closing["signature"],
    }
    return files, boundary


def archive_write(*, organization: Organization, year: int, directory: Path) -> bytes:
    """Write the year's files and signed manifest into `directory`. Returns the manifest's bytes.

    Runs in the caller's transaction, which should be one REPEATABLE READ snapshot.
    """
    start, end = year_bounds(organization, year)
    with connection.cursor() as cursor:
        # row_to_json writes times in the session's zone: UTC, whatever the server's default.
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
    files: dict[str, Any] = {}
    chains: dict[str, Any] = {}
    for archived in ARCHIVED_CHAINS:
        chain_files, chains[archived.name] = _chain_export(
            archived, directory, organization_id=organization.id, start=start, end=end
        )
        files.update(chain_files)
    ledger = chains["ledger"]
    # The year's transactions, and any other transaction an archived entry belongs to.
    files[TRANSACTIONS_FILE] = _export(
        directory / TRANSACTIONS_FILE,
        "SELECT row_to_json(t)::text FROM ledger_transaction t WHERE t.organization_id = %s"
        " AND ((t.created_at >= %s AND t.created_at < %s) OR t.id IN ("
        "  SELECT e.transaction_id FROM ledger_entryseal_history s JOIN ledger_entry_history e ON e.id = s.entry_id"
        "  WHERE s.organization_id = %s AND s.sequence > %s AND s.sequence <= %s))"
        " ORDER BY t.id",
        [organization.id, start, end, organization.id, ledger["opening_sequence"], ledger["closing_sequence"]],
    )
    files[EVENTS_FILE] = _export(
        directory / EVENTS_FILE,
        "SELECT row_to_json(e)::text FROM audit_auditevent e"
        " WHERE e.organization_id = %s AND e.created_at >= %s AND e.created_at < %s ORDER BY e.id",
        [organization.id, start, end],
    )
    manifest = {
        "format": ARCHIVE_FORMAT,
        "organization": {"id": str(organization.id), "slug": organization.slug, "timezone": organization.timezone},
        "year": year,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "files": files,
        "chains": chains,
    }
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (directory / MANIFEST).write_bytes(manifest_bytes)
    (directory / MANIFEST_HMAC).write_text(manifest_signature(manifest_bytes) + "\n")
    return manifest_bytes
