"""Reads of the retention app: checking an archive (archive_check.py)."""

from .archive_check import archive_verify

__all__ = ["archive_verify"]
