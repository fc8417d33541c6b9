"""Blob storage for job inputs, outputs and uploads: a small contract and a local-folder store.

Keys are relative, slash-separated names (``jobs/<id>/video.mp4``, ``media/<id>/original.png``);
:func:`check_key` refuses anything that could escape the store (``..``, absolute paths,
backslashes, empty parts, control characters). ``s3://bucket/prefix`` URLs are served by
``reelforge.service.storage_s3.S3Storage``, imported only when used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import unquote, urlparse

from reelforge.errors import JobError, optional_import

CHUNK = 1024 * 1024
USAGE_TTL_S = 10.0  # how long a measured storage usage is trusted (quota checks)
log = logging.getLogger(__name__)
_KEY_PART = re.compile(r"^[A-Za-z0-9._@+=-]+$")


class StorageError(JobError):
    """Storage refused or failed an operation (bad key, quota, unreachable store)."""


class StorageFull(StorageError):
    """The storage quota would be exceeded: retrying at once only renders the job again."""


def quota_exceeded(key: str, incoming: int, would_use: int, quota: int) -> StorageFull:
    """The error for a write over the store's quota. Tenants see it (a job's error), so it
    names neither the key nor the store's totals; the operator's log has both."""
    log.warning(
        "storage quota exceeded: storing %d bytes under %s would use %d of %d bytes",
        incoming,
        key,
        would_use,
        quota,
    )
    return StorageFull(
        "storage quota exceeded: the server's storage is full",
        hint="try again later; the operator frees space or raises REELFORGE_STORAGE_QUOTA_BYTES",
    )


def check_key(key: str) -> str:
    """``key`` if it is a safe relative storage key, else :class:`StorageError`."""
    if not isinstance(key, str) or not key:
        raise StorageError("empty storage key", hint="keys look like jobs/<id>/video.mp4")
    problem = None
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        problem = "is absolute"
    elif "\\" in key:
        problem = "contains a backslash"
    elif any(ord(c) < 32 for c in key):
        problem = "contains a control character"
    else:
        for part in key.split("/"):
            if part in ("", ".", ".."):
                problem = "has an empty, '.' or '..' part"
                break
            if not _KEY_PART.match(part):
                problem = f"has a part with characters outside [A-Za-z0-9._@+=-]: {part!r}"
                break
    if problem:
        raise StorageError(
            f"refused storage key {key!r}: it {problem}",
            hint="storage keys are relative names like jobs/<id>/video.mp4",
        )
    return key


def check_prefix(prefix: str) -> str:
    """A safe key prefix (a folder-like key, trailing slash allowed)."""
    return check_key(prefix.rstrip("/")) + "/"


@runtime_checkable
class Storage(Protocol):
    """Where job inputs, outputs and uploads live. Implementations: local folder, S3."""

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        """Store the file at ``path`` under ``key`` (replacing what was there, atomically)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key`` (replacing what was there, atomically)."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of ``key`` from ``start`` to ``end`` inclusive (``None`` = to the end)."""
        ...

    def size(self, key: str) -> int:
        """The size of ``key`` in bytes (:class:`StorageError` when missing)."""
        ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path:
        """A local file with the content of ``key`` (remote stores download to a cache)."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix`` (a folder-like key); returns how many."""
        ...

    def url(self, key: str, expires: int = 3600) -> str | None:
        """A direct download URL (presigned for S3); ``None`` when the API must serve it."""
        ...

    def check(self) -> None:
        """Raise :class:`StorageError` when the store is not usable (health check)."""
        ...

    def usage_bytes(self) -> int:
        """Bytes stored in all."""
        ...


class LocalStorage:
    """Keys as files under ``root``. Writes go to a temporary file then ``os.replace``."""

    def __init__(self, root: str | Path, *, quota_bytes: int | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.quota_bytes = quota_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self._usage_cache: tuple[float, int] | None = None  # (monotonic time, bytes)
        self._usage_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # check_key already forbids escapes; symlinks inside the root must not escape either.
        if self.root not in path.parents:
            raise StorageError(
                f"refused storage key {key!r}: it resolves outside the store",
                hint="storage keys are relative names like jobs/<id>/video.mp4",
            )
        return path

    def _usage(self) -> int:
        """Bytes used, from a walk of the folder at most ``USAGE_TTL_S`` old (walking a big
        store on every write would be slow); writes through this object keep it current."""
        now = time.monotonic()
        if self._usage_cache is not None and now - self._usage_cache[0] < USAGE_TTL_S:
            return self._usage_cache[1]
        used = self.usage_bytes()
        self._usage_cache = (now, used)
        return used

    def _check_quota(self, key: str, incoming: int) -> None:
        if self.quota_bytes is None:
            return
        path = self._path(key)
        with self._usage_lock:
            replaced = path.stat().st_size if path.is_file() else 0
            used = self._usage()
            if used - replaced + incoming <= self.quota_bytes:
                # Reserve the space now, so two concurrent writers cannot both squeeze in.
                assert self._usage_cache is not None
                self._usage_cache = (self._usage_cache[0], used - replaced + incoming)
                return
        raise quota_exceeded(key, incoming, used - replaced + incoming, self.quota_bytes)

    def _write(self, key: str, fill: BinaryIO | bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(fill, bytes):
                    out.write(fill)
                else:
                    shutil.copyfileobj(fill, out, CHUNK)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        source = Path(path)
        self._check_quota(key, source.stat().st_size)
        with source.open("rb") as handle:
            self._write(key, handle)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._check_quota(key, len(data))
        self._write(key, bytes(data))

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no such stored file: {key}", hint="the job may have been deleted")
        size = path.stat().st_size
        last = size - 1 if end is None else min(end, size - 1)
        if start < 0 or (start > last and size > 0):
            raise StorageError(
                f"byte range {start}-{end} is outside {key} ({size} bytes)",
                hint="ask for a range inside the file",
            )
        return self._chunks(path, start, last)

    @staticmethod
    def _chunks(path: Path, start: int, last: int) -> Iterator[bytes]:
        with path.open("rb") as handle:
            handle.seek(start)
            left = last - start + 1
            while left > 0:
                data = handle.read(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no such stored file: {key}", hint="the job may have been deleted")
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no such stored file: {key}", hint="the job may have been deleted")
        return path

    def delete_prefix(self, prefix: str) -> int:
        folder = self._path(check_prefix(prefix).rstrip("/"))
        self._usage_cache = None
        if folder.is_file():
            folder.unlink()
            return 1
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def url(self, key: str, expires: int = 3600) -> str | None:
        check_key(key)
        return None

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".health.", dir=self.root)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            raise StorageError(
                f"the storage folder {self.root} is not writable: {exc}",
                hint="check REELFORGE_STORAGE_URL and the folder's permissions and free space",
            ) from exc

    def usage_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


def storage_from_url(url: str, *, quota_bytes: int | None = None) -> Storage:
    """The store for ``url``: ``file:///path`` (or a plain path) or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = unquote(parsed.path) if parsed.scheme else url
        if parsed.scheme == "file" and parsed.netloc:  # file://relative/path
            path = parsed.netloc + path
        return LocalStorage(path, quota_bytes=quota_bytes)
    if parsed.scheme == "s3":
        hint = "pip install 'reelforge[service]' (boto3)"
        with optional_import(StorageError, "S3 storage", hint):
            from reelforge.service.storage_s3 import S3Storage
        return S3Storage.from_url(url, quota_bytes=quota_bytes)
    raise StorageError(
        f"unsupported storage URL {url!r}",
        hint="use file:///path/to/folder or s3://bucket/prefix",
    )
