"""Executors run queued jobs: an in-process thread pool (default) or Celery (scale-out).

Executors are told "job X is queued" but the database decides what runs: the in-process pool
polls it for the best ready job (critical first, then first queued, retry delays honoured) and
claims it with a compare-and-set, so a lost notification or a restart loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol, runtime_checkable

from reelforge.errors import JobError, optional_import
from reelforge.service.db import Database
from reelforge.service.recovery import requeue_expired, worker_name
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage
from reelforge.service.worker import pick_ready, run_job

log = logging.getLogger(__name__)


@runtime_checkable
class Executor(Protocol):
    def start(self) -> None:
        """Start serving (threads, or nothing for a remote executor)."""
        ...

    def submit(self, job_id: str, queue: str, priority: int) -> None:
        """Job ``job_id`` is queued in the database: run it when a worker is free."""
        ...

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let running ones finish."""
        ...


class InProcessExecutor:
    """``workers`` threads that pick ready jobs from the database and run them.

    Each idle thread wakes on :meth:`submit` or every ``poll_seconds``, lists ready jobs in
    priority order and claims the first it can; losing a claim to another thread or process is
    normal. One thread also re-queues jobs whose worker died, every ``lease_seconds / 2``.
    """

    def __init__(
        self,
        db: Database,
        storage: Storage,
        settings: ServiceSettings,
        workers: int | None = None,
        queues: tuple[str, ...] | None = None,
    ) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.workers = settings.workers if workers is None else workers
        self.queues = tuple(queues or settings.queues)
        self._wake = threading.Condition()
        self._pending = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, str] = {}  # worker id -> job id
        self._last_recovery = 0.0
        self._recovery_lock = threading.Lock()

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        for number in range(self.workers):
            name = worker_name(f"inproc{number}")
            thread = threading.Thread(
                target=self._loop, args=(name,), name=f"reelforge-{name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def submit(self, job_id: str, queue: str, priority: int) -> None:
        if queue not in self.queues:
            log.info("job %s is for queue %r; this pool serves %s", job_id, queue, self.queues)
            return
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads. A running job stops at its next progress step and goes back to the
        queue (its attempt not counted); ``wait`` waits for that."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()
        self._threads = []

    def health(self) -> dict[str, object]:
        """``{"ok", "workers", "alive", "queues", "running"}``: ok when every started thread
        lives (a pool not started, as in a submit-only process, is ok too)."""
        alive = sum(1 for thread in self._threads if thread.is_alive())
        ok = alive == len(self._threads)
        state: dict[str, object] = {
            "ok": ok,
            "workers": self.workers,
            "alive": alive,
            "queues": list(self.queues),
            "running": self.running,
        }
        if not ok:
            state["error"] = f"only {alive} of {len(self._threads)} worker threads are alive"
        return state

    @property
    def running(self) -> dict[str, str]:
        """Worker id -> the job it runs now."""
        return dict(self._running)

    def _recover_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_recovery < self.settings.lease_seconds / 2:
            return
        if not self._recovery_lock.acquire(blocking=False):
            return
        try:
            self._last_recovery = now
            requeue_expired(self.db, self.settings)
        finally:
            self._recovery_lock.release()

    def _loop(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            ran = False
            try:
                self._recover_if_due()
                for job_id in pick_ready(self.db, self.queues):
                    if self._stopping.is_set():
                        break
                    self._running[worker_id] = job_id
                    try:
                        status = run_job(
                            job_id,
                            self.db,
                            self.storage,
                            self.settings,
                            worker_id,
                            should_stop=self._stopping.is_set,
                        )
                    finally:
                        self._running.pop(worker_id, None)
                    if status is not None:
                        ran = True
                        break  # look again from the top: priorities may have changed
            except Exception:  # noqa: BLE001 - the pool must survive a database hiccup
                log.exception("worker %s: error while looking for work", worker_id)
                time.sleep(self.settings.poll_seconds)
            if ran:
                continue
            with self._wake:
                if self._pending > 0:
                    self._pending -= 1
                    continue
                self._wake.wait(self.settings.poll_seconds)


def executor_from_settings(db: Database, storage: Storage, settings: ServiceSettings) -> Executor:
    """InProcessExecutor for ``executor=inprocess``; CeleryExecutor (``reelforge.service.
    celery_app``) for ``executor=celery``, constructed as ``CeleryExecutor(db, storage, settings)``.
    """
    if settings.executor == "inprocess":
        return InProcessExecutor(db, storage, settings)
    if settings.executor == "celery":
        hint = "pip install 'reelforge[service]' (celery, redis)"
        with optional_import(JobError, "the Celery executor", hint):
            from reelforge.service.celery_app import CeleryExecutor
        return CeleryExecutor(db, storage, settings)
    raise JobError(
        f"unknown executor {settings.executor!r}", hint="REELFORGE_EXECUTOR=inprocess or celery"
    )
