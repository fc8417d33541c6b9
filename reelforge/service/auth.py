"""API keys: creation, hashed storage, lookup, per-key rate limits and daily job quotas.

The quota counts jobs submitted per owner and UTC day in ``api_usage`` (deleting jobs does not
give it back).

A key is ``rf_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored (the keys are
random, so a plain digest is enough: there is nothing to brute-force), with its first characters
kept for display. A key belongs to an owner (its name unless given): jobs and uploads are
scoped to the owner, so a rotated key for the same owner sees the same jobs.

Rate limiting is a token bucket per key held in this process's memory: exact for one API
process (``reelforge serve --workers 1``, the default); with N processes each allows the rate,
so the effective limit is N times higher. A shared limiter (Redis) would fix that for scale-out.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, String, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from reelforge.errors import ReelforgeError
from reelforge.service.db import Base, Database
from reelforge.service.models import UtcDateTime, new_id, utcnow

KEY_PREFIX = "rf_"
DISPLAY_CHARS = 10  # "rf_" + 7: enough to tell keys apart in `keys list`


class ApiKeyError(ReelforgeError, exit_code=9):
    """A key could not be created, found or revoked."""


class ApiKey(Base):
    """One API key (hashed) and its limits; NULL limits use the server's defaults."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    rate_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jobs_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # An operator's key: sees server details (health internals, metrics), never other
    # owners' jobs or files.
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
            "rate_per_minute": self.rate_per_minute,
            "jobs_per_day": self.jobs_per_day,
            "admin": bool(self.admin),
        }


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    db: Database,
    name: str,
    *,
    owner: str | None = None,
    rate_per_minute: int | None = None,
    jobs_per_day: int | None = None,
    admin: bool = False,
) -> str:
    """Create a key named ``name`` and return it; it is shown once and stored only hashed."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ApiKeyError("a key name must be 1 to 64 characters", hint="e.g. 'alice-laptop'")
    owner = (owner or name).strip()[:64]
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(
            ApiKey(
                id=new_id(),
                name=name,
                owner=owner,
                prefix=key[:DISPLAY_CHARS],
                key_hash=hash_key(key),
                created_at=utcnow(),
                rate_per_minute=rate_per_minute,
                jobs_per_day=jobs_per_day,
                admin=admin,
            )
        )
    return key


def list_api_keys(db: Database, *, include_revoked: bool = False) -> list[ApiKey]:
    with db.session() as session:
        query = select(ApiKey).order_by(ApiKey.created_at)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return list(session.scalars(query))


def revoke_api_key(db: Database, ident: str) -> ApiKey:
    """Revoke the key whose id, name or display prefix is ``ident`` (must match exactly one)."""
    with db.transaction() as session:
        matches = list(
            session.scalars(
                select(ApiKey).where(
                    ApiKey.revoked_at.is_(None),
                    (ApiKey.id == ident) | (ApiKey.name == ident) | (ApiKey.prefix == ident),
                )
            )
        )
        if not matches:
            raise ApiKeyError(f"no active key {ident!r}", hint="see `reelforge keys list`")
        if len(matches) > 1:
            raise ApiKeyError(
                f"{len(matches)} keys match {ident!r}", hint="give the key id from `keys list`"
            )
        matches[0].revoked_at = utcnow()
        return matches[0]


def find_api_key(db: Database, key: str) -> ApiKey | None:
    """The active key record for the secret ``key``, or None (unknown, malformed or revoked)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    digest = hash_key(key)
    with db.session() as session:
        record = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if record is None or record.revoked_at is not None:
        return None
    # Compare digests in constant time anyway (the lookup itself is by an index).
    return record if secrets.compare_digest(record.key_hash, digest) else None


def touch(db: Database, key_id: str) -> None:
    """Record that a key was used (best effort, at most once a minute per key)."""
    now = time.monotonic()
    with _touch_lock:
        if now - _last_touch.get(key_id, -1e9) < 60:
            return
        _last_touch[key_id] = now
    with db.transaction() as session:
        record = session.get(ApiKey, key_id)
        if record is not None:
            record.last_used_at = utcnow()


_touch_lock = threading.Lock()
_last_touch: dict[str, float] = {}


class ApiUsage(Base):
    """Jobs an owner submitted on one UTC day: the daily quota's counter. Kept apart from the
    jobs table so deleting jobs does not give the quota back."""

    __tablename__ = "api_usage"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # "2026-11-23" (UTC)
    jobs: Mapped[int] = mapped_column(Integer, default=0)


class QuotaExceeded(ApiKeyError):
    """The owner's daily job quota is spent."""

    def __init__(self, message: str, hint: str, retry_after_s: int) -> None:
        super().__init__(message, hint)
        self.retry_after_s = retry_after_s


def _today() -> tuple[str, int]:
    """Today's UTC date, and the seconds until the next UTC midnight."""
    now = datetime.now(UTC)
    tomorrow = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return now.date().isoformat(), max(1, int((tomorrow - now).total_seconds()))


def reserve_job(db: Database, owner: str, per_day: int) -> int:
    """Count one job against ``owner``'s quota for today; returns the jobs used so far.

    Raises :class:`QuotaExceeded` when ``per_day`` (0 = unlimited) jobs were already counted.
    The count is a conditional ``UPDATE``, so concurrent submissions cannot overshoot.
    """
    if per_day <= 0:
        return 0
    day, until_midnight = _today()
    for _ in range(3):
        try:
            with db.transaction() as session:
                counted = session.execute(
                    update(ApiUsage)
                    .where(ApiUsage.owner == owner, ApiUsage.day == day, ApiUsage.jobs < per_day)
                    .values(jobs=ApiUsage.jobs + 1)
                )
                if counted.rowcount == 1:  # type: ignore[attr-defined]
                    return int(session.get(ApiUsage, (owner, day)).jobs)  # type: ignore[union-attr]
                if session.get(ApiUsage, (owner, day)) is None:
                    session.add(ApiUsage(owner=owner, day=day, jobs=1))
                    session.flush()
                    return 1
        except IntegrityError:
            continue  # another request made today's row first: count again
        raise QuotaExceeded(
            f"daily quota of {per_day} jobs reached for today ({day}, UTC)",
            hint="the quota resets at midnight UTC; ask for a higher quota if you need one",
            retry_after_s=until_midnight,
        )
    raise ApiKeyError("could not count the job against the quota", hint="try again")


def release_job(db: Database, owner: str, per_day: int) -> None:
    """Give back a job reserved by :func:`reserve_job` that was not accepted after all."""
    if per_day <= 0:
        return
    day, _ = _today()
    with db.transaction() as session:
        session.execute(
            update(ApiUsage)
            .where(ApiUsage.owner == owner, ApiUsage.day == day, ApiUsage.jobs > 0)
            .values(jobs=ApiUsage.jobs - 1)
        )


# --------------------------------------------------------------------------- rate limit


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per key, in this process's memory: ``per_minute`` refill; the bucket holds
    ``burst_s`` seconds of the key's own rate, at least 1 and at most ``burst`` requests (so a
    key limited to 30 a minute cannot send the server-wide burst at once)."""

    def __init__(self, per_minute: float, burst: int, burst_s: float = 6.0) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.burst_s = burst_s
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def capacity(self, per_minute: float) -> float:
        """The bucket size for a key allowed ``per_minute`` requests a minute."""
        return float(min(max(self.burst, 1), max(1, int(per_minute * self.burst_s / 60.0))))

    def take(self, key: str, per_minute: float | None = None) -> float:
        """Take one token; return 0.0 if allowed, else the seconds until one is available."""
        rate = (per_minute if per_minute is not None else self.per_minute) / 60.0
        if rate <= 0:
            return 0.0  # 0 = unlimited
        capacity = self.capacity(rate * 60.0)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate
