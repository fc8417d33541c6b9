"""The service tables: jobs, their progress events, and uploaded media.

Times are stored as naive UTC and read back as aware UTC (:class:`UtcDateTime`), the same on
SQLite and PostgreSQL. ``Job.version`` guards status changes: SQLAlchemy adds
``WHERE version = <read>`` to every ORM update of a job, so two writers never both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from reelforge.service.db import Base

PRIORITIES: dict[str, int] = {"critical": 3, "high": 2, "medium": 1, "low": 0}
"""Priority names -> stored integers; higher runs first."""

QUEUES = ("cpu", "gpu")
MEDIA_KINDS = ("image", "audio", "video")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def priority_value(name: str | int) -> int:
    """The stored integer for a priority name (``critical``/``high``/``medium``/``low``)."""
    from reelforge.errors import JobError

    if isinstance(name, int) and name in PRIORITIES.values():
        return name
    if isinstance(name, str) and name.lower() in PRIORITIES:
        return PRIORITIES[name.lower()]
    raise JobError(f"unknown priority {name!r}", hint="use one of: " + ", ".join(PRIORITIES))


def priority_name(value: int) -> str:
    for name, number in PRIORITIES.items():
        if number == value:
            return name
    return str(value)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, naive UTC stored, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _view(record: Base, names: Iterable[str]) -> dict[str, Any]:
    """``record``'s attributes ``names``, JSON-ready (times in ISO 8601)."""
    values = {name: getattr(record, name) for name in names}
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
    }


_JOB_VIEW = (
    "id",
    "kind",
    "status",
    "stage",
    "progress",
    "eta_s",
    "priority",
    "queue",
    "owner",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "error",
    "hint",
    "result",
    "summary",
    "cached_from",
    "input_hash",
    "webhook_url",
    "created_at",
    "queued_at",
    "started_at",
    "finished_at",
    "updated_at",
    "history",
)
"""What a job shows of itself (``Job.to_dict``): not its lease, traceback or parameters."""
_MEDIA_VIEW = (
    "id",
    "reference",
    "owner",
    "sha256",
    "kind",
    "content_type",
    "filename",
    "size",
    "created_at",
)
"""What an upload shows of itself: not where it is stored."""


class Job(Base):
    """One unit of work (a video now; clips and podcasts later) and everything about its run."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), default="video")
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    eta_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITIES["medium"])
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    hint: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # What the kind's run said about its result (KindResult.summary), shown beside the downloads.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cached_from: Mapped[str | None] = mapped_column(String(32), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's spelling
    __table_args__ = (
        Index("ix_jobs_pick", "status", "queue", "priority", "queued_at"),
        Index("ix_jobs_owner", "owner", "created_at"),
        Index("ix_jobs_input_hash", "input_hash"),
    )

    @property
    def priority_name(self) -> str:
        return priority_name(self.priority)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the job (what the API returns, before adding links)."""
        view = _view(self, _JOB_VIEW)
        view.update(
            progress=round(float(self.progress or 0.0), 4),
            eta_s=None if self.eta_s is None else round(float(self.eta_s), 1),
            priority=self.priority_name,
            result=dict(self.result or {}),
            history=list(self.history or []),
        )
        return view


class JobEvent(Base):
    """One entry of a job's progress stream (status changes, stage progress, webhook attempts)."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return _view(self, (column.key for column in self.__table__.columns))


class Media(Base):
    """An uploaded image, sound or video that storyboards reference as ``media:<id>``."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # image | audio | video
    content_type: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str] = mapped_column(String(8))  # ".png", ".mp3"... from the content
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(512))  # storage key
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def reference(self) -> str:
        """How a storyboard names this file: ``media:<id>.<ext>``."""
        return f"media:{self.id}{self.extension}"

    def to_dict(self) -> dict[str, Any]:
        return _view(self, _MEDIA_VIEW)
