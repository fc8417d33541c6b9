"""S3-compatible blob storage (AWS S3, SeaweedFS, MinIO, Ceph...) with boto3.

``s3://bucket/prefix?endpoint_url=http://127.0.0.1:8333&region=us-east-1`` selects it (see
:meth:`S3Storage.from_url`). Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role), never from the URL, so they do not end up
in logs. An object appears only when its upload completed (S3 PUT and multipart completion are
atomic), so a failed upload never leaves a half-written result under its key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from reelforge.service.storage import (
    CHUNK,
    StorageError,
    check_key,
    check_prefix,
    quota_exceeded,
)

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("S3 storage needs boto3: pip install 'reelforge[service]'") from exc

MULTIPART_THRESHOLD = 16 * 1024 * 1024
"""Files above this size upload in parts (parallel, resumable per part)."""

_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_QUOTA_CODES = {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage", "XMinioStorageFull"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage:
    """Keys as objects ``<prefix>/<key>`` in ``bucket``.

    ``quota_bytes`` bounds what the store holds under ``prefix`` (S3 itself has no quota): a put
    that would go over raises :class:`StorageError` before anything is sent. ``cache_dir`` is
    where :meth:`local_path` downloads objects for tools that need a file (ffmpeg).
    """

    list_page_size = 1000  # S3's largest ListObjectsV2 page
    delete_batch_size = 1000  # DeleteObjects takes at most 1000 keys

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        quota_bytes: int | None = None,
        cache_dir: str | Path | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        create_bucket: bool = True,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise StorageError("an S3 store needs a bucket", hint="use s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = check_prefix(prefix) if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self.quota_bytes = quota_bytes
        self.create_bucket = create_bucket
        self.cache_dir = Path(
            cache_dir or Path(tempfile.gettempdir()) / "reelforge-s3-cache"
        ).expanduser()
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=4,
        )
        if client is None:
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
            )
            client = session.client(
                "s3",
                endpoint_url=endpoint_url,
                config=Config(
                    signature_version="s3v4",
                    # Path-style works with every S3-compatible server and any DNS set-up.
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=60,
                    # Checksums only where S3 requires them: not every compatible server
                    # understands the newer trailing-checksum uploads.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        self.client = client
        self._cache_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, quota_bytes: int | None = None, **kwargs: Any) -> S3Storage:
        """``s3://bucket/prefix`` with optional query ``endpoint_url``, ``region``,
        ``cache_dir`` and ``multipart_threshold``."""
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise StorageError(f"not an S3 storage URL: {url!r}", hint="use s3://bucket/prefix")
        query = {name: values[-1] for name, values in parse_qs(parsed.query).items()}
        unknown = set(query) - {
            "endpoint_url",
            "endpoint",
            "region",
            "cache_dir",
            "multipart_threshold",
        }
        if unknown:
            raise StorageError(
                f"unknown option(s) in the storage URL: {', '.join(sorted(unknown))}",
                hint="s3://bucket/prefix?endpoint_url=http://host:port&region=us-east-1",
            )
        options: dict[str, Any] = {
            "endpoint_url": query.get("endpoint_url") or query.get("endpoint"),
            "region": query.get("region"),
            "cache_dir": query.get("cache_dir"),
        }
        if "multipart_threshold" in query:
            options["multipart_threshold"] = int(query["multipart_threshold"])
        options.update(kwargs)
        return cls(
            parsed.netloc, unquote(parsed.path).strip("/"), quota_bytes=quota_bytes, **options
        )

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage('s3://{self.bucket}/{self.prefix}'{where})"

    # --- keys and errors ----------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _error(self, exc: Exception, doing: str, key: str | None = None) -> StorageError:
        where = f"s3://{self.bucket}/{self.prefix}{key or ''}"
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in _MISSING_CODES and key is not None:
                return StorageError(
                    f"no such stored file: {key}", hint="the job may have been deleted"
                )
            if code in _QUOTA_CODES:
                return StorageError(
                    f"the S3 server refused to store {key}: {code} (storage full or over quota)",
                    hint="delete finished jobs (DELETE /api/jobs/<id>) or give the bucket more "
                    "space",
                )
            if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"}:
                return StorageError(
                    f"S3 refused {doing} {where}: {code}",
                    hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy",
                )
            return StorageError(f"S3 failed {doing} {where}: {code}: {exc}")
        return StorageError(
            f"S3 is unreachable while {doing} {where}: {type(exc).__name__}: {exc}",
            hint="check REELFORGE_STORAGE_URL (endpoint_url) and that the S3 server is running",
        )

    def _check_quota(self, key: str, incoming: int) -> None:
        if self.quota_bytes is None:
            return
        replaced = self.size(key) if self.exists(key) else 0
        used = self.usage_bytes()
        if used - replaced + incoming > self.quota_bytes:
            raise quota_exceeded(key, incoming, used - replaced + incoming, self.quota_bytes)

    # --- the Storage contract -----------------------------------------------------------------

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        source = Path(path)
        self._check_quota(key, source.stat().st_size)
        extra = {"ContentType": content_type} if content_type else None
        try:
            self.client.upload_file(
                str(source), self.bucket, self._key(key), ExtraArgs=extra, Config=self.transfer
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "storing", key) from exc
        except Exception as exc:  # boto3's S3UploadFailedError wraps the ClientError
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ClientError | BotoCoreError):
                raise self._error(cause, "storing", key) from exc
            raise

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._check_quota(key, len(data))
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=bytes(data), **extra
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "storing", key) from exc

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        size = self.size(key)
        last = size - 1 if end is None else min(end, size - 1)
        if start < 0 or (start > last and size > 0):
            raise StorageError(
                f"byte range {start}-{end} is outside {key} ({size} bytes)",
                hint="ask for a range inside the file",
            )
        if size == 0:
            return iter(())
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{last}"
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "reading", key) from exc
        return self._chunks(response["Body"])

    @staticmethod
    def _chunks(body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def _head(self, key: str) -> dict[str, Any]:
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "looking up", key) from exc

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except StorageError as exc:
            if exc.message.startswith("no such stored file"):
                return False
            raise
        return True

    def local_path(self, key: str) -> Path:
        """The object downloaded under ``cache_dir`` (again only when it changed)."""
        head = self._head(key)
        tag = str(head.get("ETag", "")).strip('"')
        target = self.cache_dir / self.bucket / self._key(key)
        stamp = target.with_name(target.name + ".etag")
        with self._cache_lock:
            if target.is_file() and stamp.is_file() and stamp.read_text() == tag:
                return target
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            os.close(fd)
            try:
                self.client.download_file(self.bucket, self._key(key), tmp, Config=self.transfer)
                os.replace(tmp, target)
                stamp.write_text(tag)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "downloading", key) from exc
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return target

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket,
                Prefix=prefix,
                PaginationConfig={"PageSize": self.list_page_size},
            ):
                yield from page.get("Contents", [])
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "listing", prefix[len(self.prefix) :]) from exc

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (a folder-like key; empty = the whole store), sorted."""
        full = self.prefix + (check_prefix(prefix) if prefix else "")
        return sorted(item["Key"][len(self.prefix) :] for item in self._list(full))

    def delete_prefix(self, prefix: str) -> int:
        full = self.prefix + check_prefix(prefix)
        names = [item["Key"] for item in self._list(full)]
        # A key equal to the prefix itself (a file, not a folder) goes too, as in LocalStorage.
        single = full.rstrip("/")
        with contextlib.suppress(StorageError):
            if self.exists(single[len(self.prefix) :]):
                names.append(single)
        deleted = 0
        for start in range(0, len(names), self.delete_batch_size):
            batch = names[start : start + self.delete_batch_size]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc, "deleting", prefix) from exc
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageError(
                    f"S3 could not delete {len(errors)} object(s) under {prefix}: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}",
                    hint="check the credentials' delete permission and retry",
                )
            deleted += len(batch)
        return deleted

    def url(self, key: str, expires: int = 3600) -> str | None:
        try:
            return str(
                self.client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": self._key(key)},
                    ExpiresIn=int(expires),
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "signing a URL for", key) from exc

    def check(self) -> None:
        """The bucket exists (made when missing and ``create_bucket``) and takes writes."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) not in _MISSING_CODES or not self.create_bucket:
                raise self._error(exc, "opening the bucket") from exc
            self._make_bucket()
        except BotoCoreError as exc:
            raise self._error(exc, "opening the bucket") from exc
        probe = self.prefix + ".health"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "writing to the bucket") from exc

    def _make_bucket(self) -> None:
        options: dict[str, Any] = {}
        region = self.region or self.client.meta.region_name
        if region and region != "us-east-1" and not self.endpoint_url:
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(Bucket=self.bucket, **options)
        except ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise self._error(exc, "creating the bucket") from exc

    def usage_bytes(self) -> int:
        return sum(int(item.get("Size", 0)) for item in self._list(self.prefix))
