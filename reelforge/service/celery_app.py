"""Scale-out on Celery: a Redis broker carries "job X is queued"; the database decides the rest.

Run workers with ``reelforge worker --queue cpu`` (or ``gpu``); the API process submits with
:class:`CeleryExecutor` (``REELFORGE_EXECUTOR=celery``, ``REELFORGE_BROKER_URL=redis://...``).

How nothing gets lost:

- A message only names a job. The task calls :func:`reelforge.service.worker.run_job`, which
  claims the job with a compare-and-set in the database, so a duplicate message is harmless: it
  finds the job taken or finished and returns at once.
- ``acks_late`` with ``task_reject_on_worker_lost``: a message is acknowledged only after the job
  ran, so a worker killed mid-job leaves it in the broker (redelivered after the visibility
  timeout, sized to the longest job so a slow job is never handed out twice while it runs).
- A reaper in every worker (one at a time across the cluster, through a Redis lock) re-queues
  jobs whose lease expired (:func:`~reelforge.service.recovery.requeue_expired`) and sends again
  every queued job that has no message in the broker. A "sent" marker per job lives in Redis
  beside the messages, so when Redis loses its data (a restart without persistence) the
  markers go with the messages and the reaper sends those jobs again. A marker also expires
  (:func:`marker_seconds`), so a message stuck with a dead worker is replaced in minutes, not
  after the visibility timeout; a duplicate message costs one failed claim.
- Submitting while Redis is down leaves the job queued in the database; the reaper sends it
  when Redis is back. Submitting a job that already has a message sends nothing, so an API
  restart (which hands every queued job to the executor again) adds no duplicates.

Priorities: Redis serves a message's priority 0 first (the reverse of the stored job priority,
where ``critical`` = 3), so :func:`broker_priority` maps one to the other.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from celery import Celery, signals
from kombu.entity import Queue
from sqlalchemy import select

from reelforge.service.db import Database
from reelforge.service.lifecycle import JobStatus
from reelforge.service.models import PRIORITIES, QUEUES, Job, JobEvent
from reelforge.service.recovery import queued_jobs, requeue_expired, worker_name
from reelforge.service.settings import ServiceSettings, get_service_settings
from reelforge.service.storage import Storage, storage_from_url
from reelforge.service.worker import run_job

log = logging.getLogger(__name__)

TASK_NAME = "reelforge.run_job"
MARKER = "reelforge:sent:"  # + job id: a message for the job is in the broker
REAPER_LOCK = "reelforge:reaper"
_TOP = max(PRIORITIES.values())


def broker_priority(priority: int) -> int:
    """Job priority (critical 3 .. low 0) -> Redis message priority (0 is served first)."""
    return _TOP - max(0, min(int(priority), _TOP))


def visibility_timeout(settings: ServiceSettings) -> int:
    """Seconds before Redis hands an unacknowledged message to another worker: longer than the
    longest job may run, so a running job is never delivered twice; a lost worker's job is
    recovered sooner, by its lease."""
    longest = max([settings.timeout_s, *settings.timeouts.values()])
    return int(longest + 2 * settings.lease_seconds + 60)


def marker_seconds(settings: ServiceSettings) -> int:
    """How long a job counts as sent: after that the reaper sends it again if it is still
    queued (its message may sit with a worker that died before it could start the job)."""
    return int(max(300.0, 20 * settings.lease_seconds))


def reap_interval(settings: ServiceSettings) -> float:
    """How often the reaper looks for lost jobs: twice per lease, at most every 30 s."""
    return max(0.5, min(settings.lease_seconds / 2, 30.0))


def make_celery(settings: ServiceSettings) -> Celery:
    """A Celery app for ``settings``: Redis broker, no result backend (the database is the source
    of truth), late acks, prefetch 1, queues ``cpu`` and ``gpu`` with message priorities."""
    app = Celery("reelforge", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],  # type: ignore[no-untyped-call]
        task_default_queue="cpu",
        task_default_priority=broker_priority(PRIORITIES["medium"]),
        task_routes={TASK_NAME: {"queue": "cpu"}},
        broker_transport_options={
            "visibility_timeout": visibility_timeout(settings),
            "priority_steps": list(range(_TOP + 1)),
            "queue_order_strategy": "priority",
        },
        # The job's own timeout fails it first; this stops a hung render in a prefork child.
        task_time_limit=visibility_timeout(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for Redis to come back
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # Running jobs do not need the broker: let them finish when the connection drops.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_disable_rate_limits=True,
    )
    app.reelforge_settings = settings
    app.task(
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
    )(_run_job_task)
    return app


class _Runtime:
    """What one worker process needs: database, storage, a broker client and a worker id.
    Made lazily and again after a fork (prefork pool children)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.pid = os.getpid()
        self.settings = settings
        self.db = Database(settings.database_url)
        self.storage: Storage = storage_from_url(
            settings.storage_url, quota_bytes=settings.storage_quota_bytes
        )
        self.worker_id = worker_name("celery")
        self._executor: CeleryExecutor | None = None

    def executor(self, app: Celery) -> CeleryExecutor:
        """One executor (and one Redis client) per process."""
        if self._executor is None or self._executor.app is not app:
            self._executor = CeleryExecutor(self.db, self.storage, self.settings, app=app)
        return self._executor


_runtimes: dict[int, _Runtime] = {}
_runtime_lock = threading.Lock()


def runtime(settings: ServiceSettings) -> _Runtime:
    with _runtime_lock:
        found = _runtimes.get(id(settings))
        if found is None or found.pid != os.getpid():
            found = _runtimes[id(settings)] = _Runtime(settings)
        return found


def _run_job_task(task: Any, job_id: str) -> str | None:
    """The Celery task: run job ``job_id`` through the database's claim; a retry the job asks
    for (status ``queued`` with a backoff) is sent again with a countdown."""
    app = task.app
    settings: ServiceSettings = app.reelforge_settings
    here = runtime(settings)
    executor = here.executor(app)
    # This message is being handled. Until the claim below settles it, the job is still queued:
    # a short marker keeps the reaper from sending it again meanwhile, and expires in time for
    # the reaper to replace this message if this worker dies before or during the job.
    executor.taking(job_id)
    status = run_job(job_id, here.db, here.storage, settings, here.worker_id)
    log.info("job %s on %s: %s", job_id, here.worker_id, status or "not claimed")
    # Not claimed (not ready yet, or someone else has it) or queued for a retry: from now on
    # only the job's status says whether it needs another message.
    executor.forget(job_id)
    if status == JobStatus.QUEUED.value:  # failed attempt, retry later
        with here.db.session() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status == JobStatus.QUEUED.value:
                executor.submit(job_id, job.queue, job.priority)
    return status


class CeleryExecutor:
    """Submits jobs to Celery workers through Redis; implements the Executor protocol.

    ``start()`` does nothing in a submitting process: workers run elsewhere
    (``reelforge worker``). :meth:`reap` is the recovery step the workers' reaper runs.
    """

    def __init__(
        self,
        db: Database,
        storage: Storage,
        settings: ServiceSettings,
        *,
        app: Celery | None = None,
    ) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.app = app or make_celery(settings)

    @cached_property
    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(
            self.settings.broker_url, socket_timeout=5, socket_connect_timeout=2
        )

    def start(self) -> None:
        """Nothing to start here: ``reelforge worker`` processes run the jobs."""

    def shutdown(self, wait: bool = True) -> None:
        self.app.close()
        if "redis" in self.__dict__:
            self.redis.close()

    def submit(self, job_id: str, queue: str, priority: int) -> None:
        """Send job ``job_id`` to ``queue`` unless a message for it is in the broker already.
        When Redis is unreachable the job stays queued in the database and the reaper sends it
        once Redis is back; nothing is raised."""
        try:
            self._send(job_id, queue, priority)
        except Exception as exc:  # noqa: BLE001 - the database still holds the job
            log.warning(
                "job %s stays queued: the broker %s is unreachable (%s: %s); it is sent when "
                "the broker is back",
                job_id,
                self._where(),
                type(exc).__name__,
                exc,
            )
            self._note(
                job_id,
                f"waiting for the job queue: the broker is unreachable ({type(exc).__name__}); "
                "the job is kept and sent when the broker is back",
            )

    def _note(self, job_id: str, message: str) -> None:
        """Tell the job's watchers (events, SSE) what is going on, without a status change."""
        try:
            with self.db.transaction() as session:
                job = session.get(Job, job_id)
                if job is not None:
                    session.add(
                        JobEvent(
                            job_id=job_id,
                            status=job.status,
                            stage=job.stage,
                            progress=job.progress,
                            message=message,
                        )
                    )
        except Exception:  # noqa: BLE001 - a note is never worth failing for
            log.warning("could not record a note on job %s", job_id, exc_info=True)

    def _where(self) -> str:
        from kombu.utils.url import maybe_sanitize_url

        return str(maybe_sanitize_url(self.settings.broker_url))

    def _countdown(self, job_id: str) -> float:
        with self.db.session() as session:
            at = session.scalar(select(Job.next_attempt_at).where(Job.id == job_id))
        if at is None:
            return 0.0
        return max(0.0, (at - datetime.now(UTC)).total_seconds())

    def _send(self, job_id: str, queue: str, priority: int) -> bool:
        """Send a message for the job unless its marker says one is in the broker."""
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}; use one of {', '.join(QUEUES)}")
        countdown = self._countdown(job_id)
        ttl = int(marker_seconds(self.settings) + countdown)
        marked = self.redis.set(MARKER + job_id, str(time.time()), ex=ttl, nx=True)
        if not marked:
            return False  # a message for it is already in the broker
        try:
            self.app.send_task(
                TASK_NAME,
                args=[job_id],
                queue=queue,
                routing_key=queue,
                priority=broker_priority(priority),
                countdown=countdown or None,
                retry=True,
                retry_policy={
                    "max_retries": 2,
                    "interval_start": 0.1,
                    "interval_step": 0.2,
                    "interval_max": 0.5,
                },
            )
        except BaseException:
            self.forget(job_id)
            raise
        return True

    def taking(self, job_id: str) -> None:
        """A worker took the job's message: keep the marker only as long as a lease (the
        claim comes first thing; a worker that dies is replaced once its lease runs out)."""
        try:
            ttl_ms = max(int(self.settings.lease_seconds * 1000), 1000)
            self.redis.set(MARKER + job_id, "taken", px=ttl_ms)
        except Exception:  # noqa: BLE001 - the worst case is one duplicate message
            log.warning("could not mark job %s as taken", job_id, exc_info=True)

    def forget(self, job_id: str) -> None:
        """The job's message was taken: drop its marker (best effort)."""
        try:
            self.redis.delete(MARKER + job_id)
        except Exception:  # noqa: BLE001 - the worst case is one duplicate message
            log.warning("could not clear the sent marker of job %s", job_id, exc_info=True)

    def reap(self) -> dict[str, int]:
        """Re-queue jobs of lost workers, then send every ready queued job that has no message
        in the broker. Returns ``{"requeued": n, "sent": m}``."""
        requeued = requeue_expired(self.db, self.settings)
        sent = 0
        for job_id, queue, priority in queued_jobs(self.db):
            if self._send(job_id, queue, priority):
                sent += 1
                self._note(job_id, "sent to the job queue again (its message was lost or late)")
        if requeued or sent:
            log.info("reaper: %d job(s) re-queued, %d sent to the broker", len(requeued), sent)
        return {"requeued": len(requeued), "sent": sent}

    def health(self) -> dict[str, Any]:
        """``{"ok", "broker", "queues": {name: waiting messages}}`` (or ``error``)."""
        try:
            self.redis.ping()
            depth = {name: self._depth(name) for name in QUEUES}
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            return {"ok": False, "broker": self._where(), "error": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "broker": self._where(), "queues": depth}

    def _depth(self, queue: str) -> int:
        """Messages waiting in ``queue``: Redis keeps one list per priority step."""
        sep = self.app.conf.broker_transport_options.get("sep", "\x06\x16")
        names = [queue] + [f"{queue}{sep}{step}" for step in range(1, _TOP + 1)]
        return sum(int(self.redis.llen(name)) for name in names)


class Reaper:
    """A thread that runs :meth:`CeleryExecutor.reap` every :func:`reap_interval` seconds, in
    one worker of the cluster at a time (a Redis lock that expires by itself)."""

    def __init__(self, app: Celery, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings
        self.interval = reap_interval(settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reelforge-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def tick(self) -> dict[str, int] | None:
        here = runtime(self.settings)
        executor = here.executor(self.app)
        lock_ms = max(int(self.interval * 1000) - 100, 100)
        if not executor.redis.set(REAPER_LOCK, here.worker_id, px=lock_ms, nx=True):
            return None  # another worker reaped within this interval
        return executor.reap()

    def _loop(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.tick()
                if failing:
                    log.warning("reaper: the broker and the database answer again")
                failing = False
            except Exception as exc:  # noqa: BLE001 - try again next interval
                if not failing:
                    log.warning(
                        "reaper: %s: %s (retrying every %.1f s)",
                        type(exc).__name__,
                        exc,
                        self.interval,
                    )
                failing = True
            self._stop.wait(self.interval)


_reapers: list[Reaper] = []


def _start_reaper(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    settings = getattr(app, "reelforge_settings", None)
    if settings is None:
        return
    reaper = Reaper(app, settings)
    _reapers.append(reaper)
    reaper.start()


def _stop_reapers(**_: Any) -> None:
    while _reapers:
        _reapers.pop().stop()


signals.worker_ready.connect(_start_reaper, weak=False)
signals.worker_shutdown.connect(_stop_reapers, weak=False)


def celery_app() -> Celery:
    """The app for ``celery -A reelforge.service.celery_app`` (settings from the environment)."""
    return make_celery(get_service_settings())


def __getattr__(name: str) -> Any:
    # ``celery -A reelforge.service.celery_app worker`` looks for ``app``; made on first use so
    # importing this module reads no environment.
    if name in ("app", "celery"):
        value = celery_app()
        globals()[name] = value
        return value
    raise AttributeError(name)
