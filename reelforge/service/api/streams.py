"""Server-sent event streams of one API process: how many may be open, and what wakes them.

An open stream costs nothing while its job is quiet: one poller per process reads the events
table once per ``sse_poll_s`` (only the rows added since its last look, by primary key) and
wakes the streams whose jobs have news; each stream then reads its own job. Without it, every
stream polled the database on its own, so a few hundred idle streams slowed every request.
A stream also wakes every ``sse_keepalive_s`` to send a keep-alive and notice a deleted job,
or news whose wake the poller missed (on PostgreSQL an event can commit after one with a
higher id that the poller already passed).

Streams are capped per owner (``sse_streams_per_owner``) and in all (``sse_streams_total``);
past either cap a new stream is a 429 with ``Retry-After``. The counts are per API process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from reelforge.service.api.problems import ApiProblem, TooManyRequests
from reelforge.service.db import Database
from reelforge.service.models import JobEvent

log = logging.getLogger(__name__)

RETRY_AFTER_S = 10
BATCH = 5000  # events read per poll at most; the rest on the next poll


class StreamSlot:
    """One admitted stream; :meth:`release` gives its place back (idempotent)."""

    def __init__(self, hub: StreamHub, owner: str) -> None:
        self.hub = hub
        self.owner = owner
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.hub._release(self.owner)


class StreamHub:
    """Caps on open streams, and one shared poller that wakes the streams of changed jobs.
    Used from the event loop only (no locks needed)."""

    def __init__(self, db: Database, *, poll_s: float, per_owner: int, total: int) -> None:
        self.db = db
        self.poll_s = poll_s
        self.per_owner = per_owner
        self.total = total
        self.open_by_owner: Counter[str] = Counter()
        self.watchers: dict[str, set[asyncio.Event]] = {}
        self.polls = 0  # database reads made by the poller (tests, metrics)
        self.pollers_started = 0
        self._task: asyncio.Task[None] | None = None

    # --- admission -------------------------------------------------------------------------

    def admit(self, owner: str) -> StreamSlot:
        """A slot for a new stream of ``owner``, or :class:`TooManyRequests` past a cap."""
        if self.open_by_owner[owner] >= self.per_owner:
            raise self._full(f"you have {self.per_owner} event streams open, the most allowed")
        if sum(self.open_by_owner.values()) >= self.total:
            raise self._full("this server has as many event streams open as it allows")
        self.open_by_owner[owner] += 1
        return StreamSlot(self, owner)

    def _release(self, owner: str) -> None:
        self.open_by_owner[owner] -= 1
        if self.open_by_owner[owner] <= 0:
            del self.open_by_owner[owner]

    @staticmethod
    def _full(message: str) -> ApiProblem:
        return TooManyRequests(
            message,
            hint="close a stream you no longer read, or poll GET /api/jobs/{id} now and then",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    # --- waking ------------------------------------------------------------------------------

    def watch(self, job_id: str) -> asyncio.Event:
        """An event set whenever ``job_id`` may have news; starts the poller if needed."""
        wake = asyncio.Event()
        self.watchers.setdefault(job_id, set()).add(wake)
        if self._task is None or self._task.done():
            self.pollers_started += 1
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return wake

    def unwatch(self, job_id: str, wake: asyncio.Event) -> None:
        waiting = self.watchers.get(job_id)
        if waiting is not None:
            waiting.discard(wake)
            if not waiting:
                del self.watchers[job_id]

    async def _poll(self) -> None:
        """Runs while any stream watches; the first pass wakes everyone (it has no baseline)."""
        cursor: int | None = None
        while self.watchers:
            try:
                changed, cursor = await run_in_threadpool(self._changed_since, cursor)
            except Exception:  # noqa: BLE001 - a database hiccup: streams keep their keep-alive
                log.warning("event stream poll failed", exc_info=True)
                changed = set()  # waking every stream would send them all to the database
            self.polls += 1
            for job_id, waiting in list(self.watchers.items()):
                if changed is None or job_id in changed:
                    for wake in waiting:
                        wake.set()
            await asyncio.sleep(self.poll_s)

    def _changed_since(self, cursor: int | None) -> tuple[set[str] | None, int | None]:
        """Jobs with events after ``cursor`` (None = all, as there is no baseline yet), and the
        new cursor."""
        with self.db.session() as session:
            if cursor is None:
                return None, session.scalar(select(func.max(JobEvent.id))) or 0
            rows = session.execute(
                select(JobEvent.id, JobEvent.job_id)
                .where(JobEvent.id > cursor)
                .order_by(JobEvent.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return set(), cursor
        return {job_id for _, job_id in rows}, int(rows[-1][0])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def state(self) -> dict[str, Any]:
        return {
            "open": sum(self.open_by_owner.values()),
            "watched_jobs": len(self.watchers),
            "polls": self.polls,
        }
