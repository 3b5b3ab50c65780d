"""verify_archive: an archive written by archive.py is whole and is the chain that was signed.

Every file's SHA-256 and row count against the manifest, the manifest against its HMAC, then each
chain walked link by link from its opening checkpoint to its closing one: each link's hash
recomputed from the archived row (the payload by PostgreSQL from the chain's own spec, the hash by
ledgerx.hash_chain.link_hash), each checkpoint's signature recomputed (chain_checkpoints) and its
head compared with the recomputed link. Files are read as streams, a batch of links at a time.
"""

import gzip
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice, zip_longest
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection

from ledgerx.chain_checkpoints import NO_PREVIOUS_SIGNATURE, checkpoint_signature
from ledgerx.hash_chain import GENESIS_HASH, link_hash

from .archive import (
    ARCHIVE_FILES,
    ARCHIVED_CHAINS,
    MANIFEST,
    MANIFEST_HMAC,
    ArchivedChain,
    file_digest,
    manifest_signature,
)

PAYLOAD_BATCH = 1000


@dataclass
class ArchiveReport:
    problems: list[str]
    # What was recomputed, per chain: {"ledger": {"links": n, "checkpoints": m}, ...}.
    checked: dict[str, dict[str, int]] = field(default_factory=dict)


def _lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield line.rstrip("\n")


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    for line in _lines(path):
        yield json.loads(line)


def _payloads(archived: ArchivedChain, lines: list[str]) -> list[str]:
    """Each archived row's link payload, written by PostgreSQL from the chain's spec as the sealer's is.

    The rows go back as the text PostgreSQL wrote, never re-serialized: a number inside a JSON column
    keeps its exact digits.
    """
    chain = archived.chain
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT concat_ws('|', {chain.payload}) FROM json_populate_recordset(NULL::{chain.rows}, %s::json)"
            " WITH ORDINALITY AS r ORDER BY r.ordinality",
            ["[" + ",".join(lines) + "]"],
        )
        return [payload for (payload,) in cursor.fetchall()]


class _Checkpoints:
    """The archived checkpoints of one chain, checked in sequence order as the walk reaches them."""

    def __init__(self, archived: ArchivedChain, path: Path, organization_id: uuid.UUID, problems: list[str]) -> None:
        self.archived, self.organization_id, self.problems = archived, organization_id, problems
        self.rows = _rows(path)
        self.next = next(self.rows, None)
        self.previous_signature = NO_PREVIOUS_SIGNATURE
        self.last_signature: str | None = None
        self.checked = 0

    def reached(self, sequence: int, head: str) -> None:
        """Check every checkpoint at link `sequence`, whose recomputed hash is `head`."""
        while self.next is not None and self.next["sequence"] <= sequence:
            checkpoint, self.next = self.next, next(self.rows, None)
            self.checked += 1
            where = f"Checkpoint at link {checkpoint['sequence']} of the {self.archived.name} chain"
            signed = hmac.compare_digest(
                checkpoint["signature"],
                checkpoint_signature(
                    self.archived.chain,
                    organization_id=self.organization_id,
                    sequence=checkpoint["sequence"],
                    head_hash=checkpoint["head_hash"],
                    entry_count=checkpoint["entry_count"],
                    created_at=datetime.fromisoformat(checkpoint["created_at"]),
                    previous_signature=checkpoint["previous_signature"],
                ),
            )
            if not signed:
                self.problems.append(f"{where} does not match its signature: it was rewritten or forged.")
            elif self.last_signature is not None and checkpoint["previous_signature"] != self.last_signature:
                self.problems.append(f"{where} does not follow the checkpoint before it.")
            if checkpoint["sequence"] != sequence or checkpoint["head_hash"] != head:
                self.problems.append(f"{where} signed a different chain than the archived links give.")
            self.last_signature = checkpoint["signature"]


def _chain_check(archived: ArchivedChain, directory: Path, manifest: dict[str, Any], report: ArchiveReport) -> None:
    problems = report.problems
    boundary = manifest["chains"][archived.name]
    organization_id = uuid.UUID(manifest["organization"]["id"])
    opening, closing = boundary["opening_sequence"], boundary["closing_sequence"]
    checkpoints = _Checkpoints(archived, directory / archived.checkpoints_file, organization_id, problems)
    if opening == 0 and boundary["opening_hash"] != GENESIS_HASH:
        problems.append(f"The {archived.name} chain starts at its first link, but not from the genesis hash.")
    checkpoints.reached(opening, boundary["opening_hash"])
    if opening and checkpoints.last_signature != boundary["opening_signature"]:
        problems.append(f"The {archived.name} chain's opening checkpoint is not the one the manifest names.")
    noun = archived.chain.noun.capitalize()
    sequence, previous, head = opening, boundary["opening_hash"], boundary["opening_hash"]
    pairs = zip_longest(_rows(directory / archived.seals_file), _lines(directory / archived.rows_file))
    while batch := list(islice(pairs, PAYLOAD_BATCH)):
        if any(seal is None or line is None for seal, line in batch):
            problems.append(f"The {archived.name} chain's seals and rows differ in number: rows were removed.")
            batch = [(seal, line) for seal, line in batch if seal is not None and line is not None]
        payloads = _payloads(archived, [line for _, line in batch])
        for (seal, line), payload in zip(batch, payloads, strict=True):
            row = json.loads(line)
            if seal["sequence"] != sequence + 1:
                problems.append(
                    f"The {archived.name} chain jumps from link {sequence} to {seal['sequence']}: links are missing."
                )
            sequence = seal["sequence"]
            if seal[archived.chain.link] != row["id"] or row["organization_id"] != str(organization_id):
                problems.append(f"{noun} {row['id']} is not the row its link {sequence} seals.")
            if seal["prev_hash"] != previous:
                problems.append(
                    f"{noun} {row['id']}: its seal does not follow the link before it (sequence {sequence})."
                )
            head = link_hash(prev_hash=seal["prev_hash"], sequence=sequence, payload=payload)
            if head != seal["hash"]:
                problems.append(
                    f"{noun} {row['id']} was changed after it was sealed: it no longer matches its hash "
                    f"(sequence {sequence})."
                )
            previous = seal["hash"]
            checkpoints.reached(sequence, head)
    if sequence != closing or head != boundary["closing_hash"]:
        problems.append(f"The {archived.name} chain ends at link {sequence}, not at its closing boundary {closing}.")
    if closing and checkpoints.last_signature != boundary["closing_signature"]:
        problems.append(f"The {archived.name} chain's closing checkpoint is not the one the manifest names.")
    if checkpoints.next is not None:
        problems.append(f"The {archived.name} chain has checkpoints past its closing boundary.")
    report.checked[archived.name] = {"links": sequence - opening, "checkpoints": checkpoints.checked}


def archive_verify(directory: Path) -> ArchiveReport:
    """Every problem of the archive in `directory` (none: it is whole and as signed), and what was checked."""
    try:
        manifest_bytes = (directory / MANIFEST).read_bytes()
        signature = (directory / MANIFEST_HMAC).read_text().strip()
    except OSError as error:
        return ArchiveReport([f"The archive's manifest cannot be read: {error.strerror} ({error.filename})."])
    problems: list[str] = []
    if not hmac.compare_digest(signature, manifest_signature(manifest_bytes)):
        problems.append("The manifest does not match its HMAC: it was edited, or signed with another key.")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return ArchiveReport([*problems, "The manifest is not JSON."])
    listed = manifest.get("files", {})
    if set(listed) != ARCHIVE_FILES:
        return ArchiveReport([*problems, "The manifest does not list the archive's files."])
    missing = sorted(name for name in listed if not (directory / name).is_file())
    if missing:
        return ArchiveReport([*problems, *(f"{name} is missing." for name in missing)])
    for name, expected in sorted(listed.items()):
        path = directory / name
        sha256, rows = file_digest(path)
        if sha256 != expected["sha256"]:
            problems.append(f"{name} does not match its SHA-256 in the manifest: it was changed.")
        if rows != expected["rows"]:
            problems.append(f"{name} holds {rows} rows, the manifest says {expected['rows']}.")
    report = ArchiveReport(problems)
    for archived in ARCHIVED_CHAINS:
        try:
            _chain_check(archived, directory, manifest, report)
        except (ValueError, KeyError, TypeError, OSError, DatabaseError) as error:
            # A file whose hash holds but that is not an archive's rows: written so, not changed since.
            report.problems.append(f"The {archived.name} chain's files cannot be read as an archive: {error}")
    return report
