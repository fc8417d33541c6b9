"""JobService: submit, inspect, cancel, retry and delete jobs; store uploads; estimate prices.

The database is the source of truth for job state; the executor only hears "there is work".
Every status change goes through :mod:`reelforge.service.lifecycle`.

A video request (what ``POST /api/videos`` carries) is a dict::

    {"script": "...markdown or plain text..."}          # or
    {"storyboard": {...storyboard fields...}}
    # optional overrides (storyboard fields): template, language, voice, format, resolution,
    # target_duration (alias: duration), max_scenes, music, captions, title, seed, ...
    # optional: "preview": bool (small and fast), "queue": "cpu" | "gpu"

Media files are never given as paths: upload them (:meth:`JobService.store_upload`) and refer to
them as ``media:<id>`` in any path field (scene visuals, music, narration, watermark) or in a
Markdown image ``![](media:<id>)``. Anything else in a path field is refused, so user input never
names a file on the server.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from reelforge.errors import JobError, ReelforgeError, SpecError
from reelforge.service.db import Database
from reelforge.service.executor import Executor
from reelforge.service.lifecycle import JobStatus, transition
from reelforge.service.models import (
    KINDS,
    QUEUES,
    Job,
    JobEvent,
    Media,
    new_id,
    priority_value,
    utcnow,
)
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage
from reelforge.service.uploads import UnsupportedMedia as UnsupportedMedia  # re-exported
from reelforge.service.uploads import UploadTooLarge as UploadTooLarge  # re-exported
from reelforge.service.uploads import store_upload

T = TypeVar("T")

REQUEST_KEYS = {"script", "storyboard", "preview", "queue"}
OVERRIDE_KEYS = {
    "title",
    "template",
    "language",
    "voice",
    "speed",
    "format",
    "resolution",
    "fps",
    "target_duration",
    "duration",
    "max_scenes",
    "padding",
    "transition",
    "grade",
    "music",
    "captions",
    "loudness",
    "seed",
    "watermark",
}
MEDIA_REF = re.compile(r"media:([0-9a-f]{32})(?:\.[A-Za-z0-9]{1,5})?")
_CANONICAL_REF = re.compile(r"^media:([0-9a-f]{32})(\.[a-z0-9]{1,5})$")
MAX_SCRIPT_CHARS = 200_000
# A family name for fontconfig: no path separators, no ':' pattern properties (file=...).
_FONT_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


class JobNotFound(JobError):
    """No such job (or media) for this owner."""


class JobConflict(JobError):
    """The job is not in a state that allows this (retry a completed job, cancel a failed one)."""


def retry_stale(action: Callable[[], T], attempts: int = 8) -> T:
    """Run ``action`` again when a concurrent writer changed the job first (optimistic lock)."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleDataError:
            if attempt == attempts - 1:
                raise JobError(
                    "the job kept changing while being updated",
                    hint="try again in a moment",
                ) from None
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


# --- requests -> storyboards ---------------------------------------------------------------


def media_path_fields(board: Any) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Every file path a storyboard names: ``(field path, value, allowed media kinds)``."""
    for number, scene in enumerate(board.scenes):
        if scene.visual is not None and scene.visual.path:
            yield f"scenes.{number}.visual.path", scene.visual.path, ("image", "video")
    if board.music.path:
        yield "music.path", board.music.path, ("audio",)
    if board.captions.file:
        yield "captions.file", board.captions.file, ()
    if board.narration is not None:
        yield "narration.path", board.narration.path, ("audio",)
        if board.narration.words:
            yield "narration.words", board.narration.words, ()
    if board.watermark is not None and board.watermark.path:
        yield "watermark.path", board.watermark.path, ("image",)


def map_media_paths(board: Any, replace: Callable[[str], str]) -> Any:
    """``board`` with every media path replaced by ``replace(path)`` (a new Storyboard)."""
    scenes = []
    for scene in board.scenes:
        if scene.visual is not None and scene.visual.path:
            visual = scene.visual.model_copy(update={"path": replace(scene.visual.path)})
            scene = scene.model_copy(update={"visual": visual})
        scenes.append(scene)
    update: dict[str, Any] = {"scenes": tuple(scenes)}
    if board.music.path:
        update["music"] = board.music.model_copy(update={"path": replace(board.music.path)})
    if board.narration is not None:
        update["narration"] = board.narration.model_copy(
            update={"path": replace(board.narration.path)}
        )
    if board.watermark is not None and board.watermark.path:
        update["watermark"] = board.watermark.model_copy(
            update={"path": replace(board.watermark.path)}
        )
    return board.model_copy(update=update)


def _rewrite_refs(value: Any, rewrite: Callable[[str], str]) -> Any:
    """Every ``media:<id>`` inside strings of ``value`` (nested dicts/lists) rewritten."""
    if isinstance(value, str):
        return MEDIA_REF.sub(lambda m: rewrite(m.group(1)), value)
    if isinstance(value, dict):
        return {k: _rewrite_refs(v, rewrite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rewrite_refs(v, rewrite) for v in value]
    return value


def normalise_request(request: Any) -> dict[str, Any]:
    """Check the request's shape (not yet its storyboard): a dict with a script or storyboard."""
    if not isinstance(request, dict):
        raise SpecError("a video request must be a JSON object", hint='{"script": "Hello."}')
    unknown = sorted(set(request) - REQUEST_KEYS - OVERRIDE_KEYS)
    if unknown:
        raise SpecError(
            "unknown request field" + ("s" if len(unknown) > 1 else "") + ": " + ", ".join(unknown),
            hint="fields: " + ", ".join(sorted(REQUEST_KEYS | OVERRIDE_KEYS)),
        )
    script, storyboard = request.get("script"), request.get("storyboard")
    if (script is None) == (storyboard is None):
        raise SpecError(
            "give exactly one of 'script' (text) or 'storyboard' (an object)",
            hint='{"script": "Hello there."} or {"storyboard": {"scenes": ["Hello there."]}}',
        )
    if script is not None and (not isinstance(script, str) or not script.strip()):
        raise SpecError("'script' must be non-empty text", hint="write at least one sentence")
    if isinstance(script, str) and len(script) > MAX_SCRIPT_CHARS:
        raise SpecError(
            f"the script is {len(script)} characters long; the limit is {MAX_SCRIPT_CHARS}",
            hint="split it into several videos",
        )
    if storyboard is not None and not isinstance(storyboard, dict):
        raise SpecError("'storyboard' must be an object", hint="see GET /api/schema")
    preview = request.get("preview", False)
    if not isinstance(preview, bool):
        raise SpecError("'preview' must be true or false", hint='"preview": true')
    queue = request.get("queue", "cpu")
    if queue not in QUEUES:
        raise SpecError(f"unknown queue {queue!r}", hint="one of: " + ", ".join(QUEUES))
    out = dict(request)
    if "duration" in out:
        out.setdefault("target_duration", out.pop("duration"))
        out.pop("duration", None)
    out["preview"] = preview
    out["queue"] = queue
    return out


def build_request_storyboard(
    request: dict[str, Any], media: Callable[[str], Media | None] | None = None
) -> tuple[Any, dict[str, Any]]:
    """``(Storyboard, canonical request)`` for a normalised ``request``.

    ``media(id)`` finds an uploaded file (``None`` when unknown or not the owner's); every
    ``media:<id>`` becomes the canonical ``media:<id>.<ext>`` so the storyboard infers the right
    visual type. With ``media=None`` (estimates) references are accepted unchecked. Raises
    :class:`SpecError` for a bad storyboard, an unknown media id, a file path, or a media file of
    the wrong kind for its field.
    """
    from reelforge.spec.parse import build_storyboard, storyboard_from_text

    found: dict[str, Media] = {}
    missing: list[str] = []

    def canonical(media_id: str) -> str:
        if media is None:
            return f"media:{media_id}.png"
        item = found.get(media_id) or media(media_id)
        if item is None:
            missing.append(media_id)
            return f"media:{media_id}.bin"
        found[media_id] = item
        return item.reference

    canonical_request = _rewrite_refs(request, canonical)
    if missing:
        raise SpecError(
            "unknown media: " + ", ".join(f"media:{m}" for m in sorted(set(missing))),
            hint="upload files with POST /api/media and use the id it returns",
        )
    overrides = {
        k: v
        for k, v in canonical_request.items()
        if k in OVERRIDE_KEYS and v is not None and k != "duration"
    }
    if canonical_request.get("script") is not None:
        board = storyboard_from_text(canonical_request["script"], source="the script", **overrides)
    else:
        board = build_storyboard(
            {**canonical_request["storyboard"], **overrides}, source="the storyboard"
        )
    problems = []
    for field, value, kinds in media_path_fields(board):
        match = _CANONICAL_REF.match(value)
        if not kinds:
            problems.append(f"{field}: files of this kind cannot be uploaded to the service")
        elif match is None:
            problems.append(
                f"{field}: {value!r} is a file path; the service only accepts uploaded media"
            )
        elif media is not None and found[match.group(1)].kind not in kinds:
            problems.append(
                f"{field}: media:{match.group(1)} is {found[match.group(1)].kind}, "
                f"this field takes {' or '.join(kinds)}"
            )
    font = board.captions.font
    if font is not None and (
        not _FONT_FAMILY.match(font) or font.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))
    ):
        problems.append(
            f"captions.font: {font!r} is not a font family name (the service takes installed "
            "family names, not font files)"
        )
    if problems:
        raise SpecError(
            "; ".join(problems),
            hint="upload files with POST /api/media and refer to them as media:<id>",
        )
    return board, canonical_request


def input_hash(board: Any, media_hashes: dict[str, str], preview: bool, kind: str) -> str:
    """What determines a job's output: the resolved storyboard with uploads named by content."""
    from reelforge import __version__

    def by_content(path: str) -> str:
        match = _CANONICAL_REF.match(path)
        return f"sha256:{media_hashes[match.group(1)]}" if match else path

    canonical = map_media_paths(board, by_content).model_dump(mode="json")
    text = json.dumps(
        {"kind": kind, "preview": preview, "storyboard": canonical, "reelforge": __version__},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expected_duration(board: Any) -> float:
    """Seconds the video will last, estimated before planning (narration at 2.5 words/s)."""
    if board.target_duration:
        return float(board.target_duration)
    duration = 0.0
    for scene in board.scenes:
        spoken = len(scene.narration.split()) / 2.5 / board.speed
        duration += max(spoken + board.padding, scene.duration or 0.0, 1.0)
    return duration


def check_limits(board: Any, settings: ServiceSettings) -> None:
    """Refuse what this server will not render: too many scenes, too long a video."""
    if len(board.scenes) > settings.max_scenes:
        raise SpecError(
            f"the video has {len(board.scenes)} scenes; this server renders at most "
            f"{settings.max_scenes}",
            hint="split it into several videos, or set max_scenes to merge scenes",
        )
    duration = expected_duration(board)
    if duration > settings.max_video_seconds:
        raise SpecError(
            f"the video would last about {duration:.0f} s; this server renders at most "
            f"{settings.max_video_seconds:.0f} s",
            hint="shorten the script or target_duration, or split it into several videos",
        )


# --- the service -------------------------------------------------------------------------------


class JobService:
    """The service verbs over a database, a store and an executor."""

    def __init__(
        self, db: Database, storage: Storage, executor: Executor, settings: ServiceSettings
    ) -> None:
        self.db = db
        self.storage = storage
        self.executor = executor
        self.settings = settings

    # --- jobs ---------------------------------------------------------------------------------

    def submit_video(
        self,
        request: dict[str, Any],
        *,
        owner: str | None = None,
        priority: str = "medium",
        webhook_url: str | None = None,
    ) -> Job:
        """Validate ``request`` (builds the Storyboard; SpecError/JobError when bad), store it
        under ``jobs/<id>/input.json``, queue the job and tell the executor. Returns the job
        (status ``queued``)."""
        normalised = normalise_request(request)
        priority_number = priority_value(priority)
        if webhook_url is not None:
            from reelforge.service.webhooks import check_url

            check_url(webhook_url, self.settings)
        with self.db.session() as session:

            def find(media_id: str) -> Media | None:
                item = session.get(Media, media_id)
                return item if item is not None and item.owner == owner else None

            board, canonical = build_request_storyboard(normalised, find)
            check_limits(board, self.settings)
            hashes = {
                m.group(1): session.get(Media, m.group(1)).sha256  # type: ignore[union-attr]
                for _, value, _ in media_path_fields(board)
                if (m := _CANONICAL_REF.match(value))
            }
        digest = input_hash(board, hashes, canonical["preview"], "video")
        job_id = new_id()
        document = {"kind": "video", "request": canonical, "owner": owner}
        self.storage.put_bytes(
            f"jobs/{job_id}/input.json",
            json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"),
            "application/json",
        )
        now = utcnow()
        with self.db.transaction() as session:
            job = Job(
                id=job_id,
                kind="video",
                status=JobStatus.SUBMITTED.value,
                priority=priority_number,
                queue=canonical["queue"],
                params=canonical,
                input_hash=digest,
                owner=owner,
                webhook_url=webhook_url,
                max_attempts=self.settings.max_attempts,
                attempts=0,
                progress=0.0,
                created_at=now,
                updated_at=now,
                history=[{"status": "submitted", "at": now.isoformat(), "note": None}],
            )
            session.add(job)
            session.add(JobEvent(job_id=job_id, at=now, status="submitted", progress=0.0))
            transition(session, job, JobStatus.QUEUED, note="accepted")
        self.executor.submit(job.id, job.queue, job.priority)
        return job

    def _load(self, session: Session, job_id: str, owner: str | None) -> Job:
        job = session.get(Job, job_id) if isinstance(job_id, str) else None
        if job is None or (owner is not None and job.owner != owner):
            raise JobNotFound(f"no job {job_id}", hint="list your jobs with GET /api/jobs")
        return job

    def get(self, job_id: str, owner: str | None = None) -> Job:
        """The job, or :class:`JobNotFound` when missing or owned by someone else."""
        with self.db.session() as session:
            return self._load(session, job_id, owner)

    def list(
        self,
        status: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """Jobs newest first, filtered; returns (page, total matching)."""
        if status is not None and status not in {s.value for s in JobStatus}:
            raise SpecError(
                f"unknown status {status!r}",
                hint="one of: " + ", ".join(s.value for s in JobStatus),
            )
        if kind is not None and kind not in KINDS:
            raise SpecError(f"unknown kind {kind!r}", hint="one of: " + ", ".join(KINDS))
        if not 1 <= limit <= 1000 or offset < 0:
            raise SpecError("limit must be 1..1000 and offset >= 0", hint="?limit=50&offset=0")
        conditions = []
        if status is not None:
            conditions.append(Job.status == status)
        if kind is not None:
            conditions.append(Job.kind == kind)
        if owner is not None:
            conditions.append(Job.owner == owner)
        with self.db.session() as session:
            total = session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
            page = session.scalars(
                select(Job)
                .where(*conditions)
                .order_by(Job.created_at.desc(), Job.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return list(page), int(total)

    def cancel(self, job_id: str, owner: str | None = None) -> Job:
        """Cancel a job that is not final (a running one stops at its next progress step).
        Cancelling a cancelled job is a no-op; a completed or failed one is a
        :class:`JobConflict`."""

        def attempt() -> Job:
            with self.db.transaction() as session:
                job = self._load(session, job_id, owner)
                if job.status == JobStatus.CANCELLED:
                    return job
                if JobStatus(job.status).is_final:
                    raise JobConflict(
                        f"job {job_id} is {job.status}; only unfinished jobs can be cancelled",
                        hint="delete it instead (DELETE /api/jobs/<id>)",
                    )
                return transition(session, job, JobStatus.CANCELLED, note="cancelled on request")

        return retry_stale(attempt)

    def delete(self, job_id: str, owner: str | None = None) -> None:
        """Cancel the job if it runs, delete its stored files and its rows."""
        job = self.get(job_id, owner)
        if not JobStatus(job.status).is_final:
            with contextlib.suppress(JobConflict):
                self.cancel(job_id, owner)
        self.storage.delete_prefix(f"jobs/{job_id}/")
        with self.db.transaction() as session:
            session.execute(sql_delete(JobEvent).where(JobEvent.job_id == job_id))
            session.execute(sql_delete(Job).where(Job.id == job_id))

    def retry(self, job_id: str, owner: str | None = None) -> Job:
        """Queue a failed or cancelled job again (a fresh attempt budget)."""

        def attempt() -> Job:
            with self.db.transaction() as session:
                job = self._load(session, job_id, owner)
                if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                    raise JobConflict(
                        f"job {job_id} is {job.status}; only failed or cancelled jobs are retried",
                        hint="wait for it to finish, or submit a new job",
                    )
                if not self.storage.exists(f"jobs/{job_id}/input.json"):
                    raise JobConflict(
                        f"job {job_id} has lost its input", hint="submit the request again"
                    )
                return transition(session, job, JobStatus.QUEUED, note="retry on request")

        job = retry_stale(attempt)
        self.executor.submit(job.id, job.queue, job.priority)
        return job

    def purge(self, older_than_s: float, owner: str | None = None) -> int:
        """Delete finished jobs (files and rows) that finished more than ``older_than_s``
        seconds ago; returns how many. For a retention policy run now and then."""
        from datetime import timedelta

        cutoff = utcnow() - timedelta(seconds=older_than_s)
        conditions = [
            Job.status.in_(
                [JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value]
            ),
            Job.finished_at < cutoff,
        ]
        if owner is not None:
            conditions.append(Job.owner == owner)
        with self.db.session() as session:
            ids = session.scalars(select(Job.id).where(*conditions)).all()
        removed = 0
        for job_id in ids:
            with contextlib.suppress(JobNotFound):
                self.delete(job_id)
                removed += 1
        return removed

    def events(
        self, job_id: str, after_id: int = 0, owner: str | None = None
    ) -> builtins.list[JobEvent]:
        """The job's events with id > ``after_id`` in order (for SSE streams)."""
        with self.db.session() as session:
            self._load(session, job_id, owner)
            return list(
                session.scalars(
                    select(JobEvent)
                    .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
                    .order_by(JobEvent.id)
                ).all()
            )

    def artifact_key(self, job_id: str, name: str, owner: str | None = None) -> str:
        """The storage key of result ``name`` (``video``, ``srt``, ``vtt``, ``ass``,
        ``words.json``, ``thumbnail``, ``manifest``) of a completed job, else JobNotFound."""
        job = self.get(job_id, owner)
        if job.status != JobStatus.COMPLETED:
            raise JobConflict(
                f"job {job_id} is {job.status}; results exist once it is completed",
                hint="follow GET /api/jobs/<id> or its event stream",
            )
        key = (job.result or {}).get(name)
        if key is None:
            raise JobNotFound(
                f"job {job_id} has no {name!r} result",
                hint="results: " + ", ".join(sorted(job.result or {})),
            )
        return key

    def recover(self) -> int:
        """Re-queue jobs whose worker died (lease expired) and hand every queued job to the
        executor again. Returns how many jobs were handed over."""
        from reelforge.service.worker import requeue_expired

        requeue_expired(self.db, self.settings)
        with self.db.session() as session:
            queued = session.execute(
                select(Job.id, Job.queue, Job.priority)
                .where(Job.status == JobStatus.QUEUED.value)
                .order_by(Job.priority.desc(), Job.queued_at)
            ).all()
        for job_id, queue, priority in queued:
            self.executor.submit(job_id, queue, priority)
        return len(queued)

    def estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Price estimate from the configured rates: ``{"duration_s", "compute_s", "queue",
        "preview", "cost", "currency", "rates"}``. Validates the request like a submit."""
        normalised = normalise_request(request)
        board, canonical = build_request_storyboard(normalised, None)
        check_limits(board, self.settings)
        duration = expected_duration(board)
        s = self.settings
        factor = (
            s.compute_per_output_second_preview
            if canonical["preview"]
            else (s.compute_per_output_second)
        )
        width, height = board.size()
        pixels = (width * height) / (1920 * 1080)
        compute = s.compute_overhead_s + duration * factor * (
            1.0 if canonical["preview"] else max(pixels, 0.1)
        )
        rate = s.price_gpu_second if canonical["queue"] == "gpu" else s.price_cpu_second
        return {
            "duration_s": round(duration, 1),
            "compute_s": round(compute, 1),
            "queue": canonical["queue"],
            "preview": canonical["preview"],
            "scenes": len(board.scenes),
            "cost": round(compute * rate, 6),
            "currency": s.currency,
            "rates": {
                "cpu_second": s.price_cpu_second,
                "gpu_second": s.price_gpu_second,
                "compute_per_output_second": s.compute_per_output_second,
                "compute_per_output_second_preview": s.compute_per_output_second_preview,
                "overhead_s": s.compute_overhead_s,
            },
        }

    # --- uploads ------------------------------------------------------------------------------

    def store_upload(
        self,
        owner: str | None,
        filename: str | None,
        stream: BinaryIO | Iterable[bytes],
        declared_type: str | None = None,
    ) -> Media:
        """Store an uploaded image, sound or video (see :mod:`reelforge.service.uploads`)."""
        return store_upload(
            self.db, self.storage, self.settings, owner, filename, stream, declared_type
        )

    def get_media(self, media_id: str, owner: str | None = None) -> Media:
        with self.db.session() as session:
            media = session.get(Media, media_id)
            if media is None or (owner is not None and media.owner != owner):
                raise JobNotFound(f"no media {media_id}", hint="upload with POST /api/media")
            return media

    def delete_media(self, media_id: str, owner: str | None = None) -> None:
        """Delete an upload (jobs already rendered keep their outputs; queued jobs that use it
        fail with a clear error)."""
        media = self.get_media(media_id, owner)
        self.storage.delete_prefix(f"media/{media.id}/")
        with self.db.transaction() as session:
            session.execute(sql_delete(Media).where(Media.id == media.id))

    # --- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"ok", "database", "storage", "queue"}``, each part with ``ok`` and details."""
        report: dict[str, Any] = {}
        try:
            self.db.check()
            with self.db.session() as session:
                counts = dict(
                    session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
                )
            report["database"] = {"ok": True, "revision": self.db.current_revision()}
            report["queue"] = {
                "ok": True,
                "executor": type(self.executor).__name__,
                "jobs": {s.value: int(counts.get(s.value, 0)) for s in JobStatus},
            }
            executor_health = getattr(self.executor, "health", None)
            if callable(executor_health):
                try:
                    state = dict(executor_health())
                except Exception as exc:  # noqa: BLE001 - health reports, never raises
                    state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                report["queue"]["ok"] = bool(state.get("ok", False))
                if state.get("error"):
                    report["queue"]["error"] = state["error"]
                report["queue"]["workers"] = state
        except ReelforgeError as exc:
            report["database"] = {"ok": False, "error": exc.message, "hint": exc.hint}
            report["queue"] = {"ok": False, "error": "database unavailable"}
        try:
            self.storage.check()
            report["storage"] = {"ok": True, "kind": type(self.storage).__name__}
        except ReelforgeError as exc:
            report["storage"] = {"ok": False, "error": exc.message, "hint": exc.hint}
        report["ok"] = all(part["ok"] for part in report.values())
        return report

    def close(self, wait: bool = True) -> None:
        """Stop the executor and release the database."""
        self.executor.shutdown(wait=wait)
        self.db.dispose()
