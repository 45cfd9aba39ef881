"""Evidence storage: files addressed by the SHA-256 of their bytes, so tampering shows.

The default backend is a local directory (LINKSTAR_STORAGE_DIR); another backend (object
storage) implements the same four methods.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class EvidenceStore(Protocol):
    """Where document bytes live."""

    def put(self, data: bytes) -> str:
        """Store `data`; return its key (its SHA-256). Storing the same bytes twice is a no-op."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; raises if they are missing or no longer match the key."""

    def exists(self, key: str) -> bool:
        """Whether bytes are stored under `key`."""

    def delete(self, key: str) -> bool:
        """Remove the bytes under `key` (retention ran out); False if there were none."""


class TamperedEvidence(Exception):
    """Stored bytes no longer hash to their key."""


class LocalDirectoryStore:
    """Content-addressed files under a directory: ab/cdef… for SHA-256 abcdef…."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"{key!r} is not a SHA-256 key")
        return self.root / key[:2] / key[2:]

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a crash never leaves a half-written file under the key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return key

    def get(self, key: str) -> bytes:
        data = self._path(key).read_bytes()
        if hashlib.sha256(data).hexdigest() != key:
            raise TamperedEvidence(f"stored bytes for {key} no longer match their hash")
        return data

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes really are (by signature, never by file name), or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04") and b"xl/" in data[:4096]:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if data and b"\x00" not in data[:8192]:
        try:  # incremental: a character cut at the sample's end is not an error
            sample = codecs.getincrementaldecoder("utf-8")().decode(data[:8192], final=False)
        except UnicodeDecodeError:
            return None
        if "," in sample and "\n" in sample:
            return "text/csv"
    return None
