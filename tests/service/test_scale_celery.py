"""Scale-out fault tests: Celery workers in their own processes, real Redis, PostgreSQL and S3.

Each job is a real preview render. Test workers start every render with a few slow progress
steps (``slow_steps``; see ``tests/servers.py``) so a test can kill one mid-job on 2 cores.

One cluster serves the module (starting worker processes is the slow part): two ``cpu`` workers
and a ``gpu`` worker whose store has a small quota. The tests run in file order; the last one
kills a worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from servers import (
    PostgresServer,
    RedisServer,
    S3Server,
    WorkerProcess,
    start_redis,
    start_worker,
)
from service_support import VIDEO_OUTPUTS as OUTPUTS

pytest.importorskip("celery")
pytest.importorskip("boto3")
pytest.importorskip("psycopg")

from reelforge.service.celery_app import CeleryExecutor
from reelforge.service.db import Database
from reelforge.service.jobs import JobService
from reelforge.service.models import Job
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage_s3 import S3Storage

LEASE_SECONDS = 3.0
QUOTA = 20_000  # bytes: a job's input fits, a video does not


@dataclass
class Cluster:
    """The API side (a JobService submitting through Celery) and the worker processes."""

    folder: Path
    redis: RedisServer
    settings: ServiceSettings
    env: dict[str, str]
    db: Database
    storage: S3Storage
    service: JobService
    workers: list[WorkerProcess] = field(default_factory=list)

    def start_workers(
        self,
        count: int,
        *options: str,
        queue: str = "cpu",
        slow_steps: int = 0,
        **env: str,
    ) -> list[WorkerProcess]:
        """Start ``count`` workers for ``queue`` (:meth:`wait_ready` waits for them)."""
        started = [
            start_worker(
                f"{queue}{len(self.workers) + number}",
                {**self.env, **env},
                self.folder / "workers",
                "--queue",
                queue,
                *options,
                slow_steps=slow_steps,
            )
            for number in range(count)
        ]
        self.workers += started
        return started

    def wait_ready(self) -> None:
        for worker in self.workers:
            worker.wait_ready()

    def job(self, job_id: str) -> Job:
        with self.db.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job

    def wait(self, job_ids: list[str], statuses: set[str], timeout: float) -> list[Job]:
        deadline = time.monotonic() + timeout
        while True:
            jobs = [self.job(job_id) for job_id in job_ids]
            if all(job.status in statuses for job in jobs):
                return jobs
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {w.name}\n{w.log()[-2500:]}" for w in self.workers)
                pytest.fail(
                    f"jobs not {statuses} after {timeout:.0f} s: "
                    f"{[(job.id[:8], job.status, job.error) for job in jobs]}\n{logs}"
                )
            time.sleep(0.2)

    def submit(self, text: str, **request: object) -> str:
        job = self.service.submit_video({"script": text, "preview": True, **request})
        return job.id

    def close(self) -> None:
        for worker in self.workers:  # all at once: each may take a second to go
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGQUIT)
        for worker in self.workers:
            worker.stop()
        self.service.executor.shutdown()
        self.db.dispose()


def make_cluster(
    folder: Path, redis: RedisServer, postgres: PostgresServer, s3: S3Server, **overrides: object
) -> Cluster:
    database_url = postgres.create_database(template=postgres.migrated_template())
    bucket = s3.new_bucket_name()
    storage_url = f"s3://{bucket}/reelforge?endpoint_url={s3.endpoint_url}&region={s3.region}"
    values: dict[str, object] = {
        "data_dir": folder / "api",
        "database_url": database_url,
        "storage_url": storage_url,
        "executor": "celery",
        "broker_url": redis.url,
        "lease_seconds": LEASE_SECONDS,
        "retry_backoff_s": 0.2,
        "cache_dir": folder / "cache",
        **overrides,
    }
    settings = ServiceSettings(**values)  # type: ignore[arg-type]
    env = {
        **s3.env(),
        "REELFORGE_DATABASE_URL": database_url,
        "REELFORGE_STORAGE_URL": storage_url,
        "REELFORGE_EXECUTOR": "celery",
        "REELFORGE_BROKER_URL": redis.url,
        "REELFORGE_LEASE_SECONDS": str(LEASE_SECONDS),
        "REELFORGE_RETRY_BACKOFF_S": "0.2",
        "REELFORGE_DATA_DIR": str(folder / "worker-data"),
        "REELFORGE_CACHE_DIR": str(folder / "cache"),
    }
    for name, value in overrides.items():
        env[f"REELFORGE_{name.upper()}"] = str(value)
    db = Database(database_url)
    db.migrate()
    storage = S3Storage.from_url(storage_url, access_key=s3.access_key, secret_key=s3.secret_key)
    storage.check()
    service = JobService(db, storage, CeleryExecutor(db, storage, settings), settings)
    return Cluster(folder, redis, settings, env, db, storage, service)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, s3_server: S3Server
) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    redis = start_redis(folder / "redis")
    made = None
    try:
        made = make_cluster(folder, redis, postgres_server, s3_server)
        # 1.5 s of progress steps before each render; both kinds of pool: solo, and prefork
        # (the job runs in a child process).
        made.start_workers(1, slow_steps=6)
        made.start_workers(1, "--pool", "prefork", slow_steps=6)
        # The quota counts what the store holds: this worker runs the first job of the module.
        made.start_workers(1, queue="gpu", REELFORGE_STORAGE_QUOTA_BYTES=str(QUOTA))
        made.wait_ready()
        yield made
    finally:
        if made is not None:
            made.close()
        redis.stop()


def stored_keys(cluster: Cluster, job_id: str) -> list[str]:
    return cluster.storage.keys(f"jobs/{job_id}")


def worker_pid(lease_owner: str) -> int:
    """``celery-<host>-<pid>-<random>`` (reelforge.service.executor.worker_name) -> pid."""
    return int(lease_owner.rsplit("-", 2)[1])


def assert_outputs_once(cluster: Cluster, job: Job) -> None:
    """Every result stored once, under its fixed key, and nothing else beside the input."""
    expected = {f"jobs/{job.id}/{output.file}" for output in OUTPUTS.values()}
    keys = stored_keys(cluster, job.id)
    assert len(keys) == len(set(keys))
    assert set(keys) - {f"jobs/{job.id}/input.json"} == set((job.result or {}).values())
    assert set((job.result or {}).values()) <= expected
    assert f"jobs/{job.id}/video.mp4" in keys and cluster.storage.size(f"jobs/{job.id}/video.mp4")


# Short, distinct narrations (the step cache would reuse a finished job with the same input),
# spoken by espeak-ng without music: a preview render takes a few seconds.
FAST = {"voice": "en-adult-female", "music": "none"}


def test_a_full_store_fails_the_job_with_a_hint_and_claims_nothing(cluster: Cluster) -> None:
    # One attempt: a retry would render again only to meet the same full store.
    once = JobService(
        cluster.db,
        cluster.storage,
        cluster.service.executor,
        cluster.settings.model_copy(update={"max_attempts": 1}),
    )
    request = {"script": "This video does not fit in the store.", "preview": True, "queue": "gpu"}
    job_id = once.submit_video({**request, **FAST}).id
    (job,) = cluster.wait([job_id], {"completed", "failed"}, 90)
    assert job.status == "failed"
    assert "storage quota exceeded" in (job.error or "")
    assert "REELFORGE_STORAGE_QUOTA_BYTES" in (job.hint or "")
    assert not job.result  # nothing claimed as done
    assert not cluster.storage.exists(f"jobs/{job_id}/video.mp4")
    assert [entry["status"] for entry in job.history].count("completed") == 0
    assert cluster.storage.usage_bytes() <= QUOTA


def test_jobs_queued_while_redis_is_down_or_lost_with_it_still_complete(cluster: Cluster) -> None:
    executor: CeleryExecutor = cluster.service.executor  # type: ignore[assignment]
    # Both cpu workers busy, so the third job's message waits in Redis.
    running = [
        cluster.submit("The first job runs through the outage.", **FAST),
        cluster.submit("So does the second one, on the other worker.", **FAST),
    ]
    waiting = cluster.submit("The third job waits in Redis, which forgets it.", **FAST)
    deadline = time.monotonic() + 60
    while any(cluster.job(job_id).status not in {"processing", "rendering"} for job_id in running):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    health = executor.health()
    assert health["queues"]["cpu"] == 1, health  # the third job's message, nothing else

    cluster.redis.stop()
    down = executor.health()
    assert down["ok"] is False and "Connection" in down["error"]
    during = cluster.submit("The third job is submitted while Redis is down.", **FAST)
    assert cluster.job(during).status == "queued"  # accepted: the database has it
    notes = [event.message or "" for event in cluster.service.events(during)]
    assert any("broker is unreachable" in note for note in notes), notes  # said, not hidden
    time.sleep(1.0)
    assert cluster.job(waiting).status == "queued" and cluster.job(during).status == "queued"
    cluster.redis.start()  # same port, empty: the second job's message is gone

    jobs = cluster.wait([*running, waiting, during], {"completed", "failed"}, 120)
    for job in jobs:
        assert job.status == "completed", (job.id, job.error)
        assert_outputs_once(cluster, job)
    assert [job.attempts for job in jobs] == [1, 1, 1, 1]


def test_a_worker_killed_mid_job_leaves_it_to_the_other_worker(cluster: Cluster) -> None:
    workers = [worker for worker in cluster.workers if worker.name.startswith("cpu")]
    job_id = cluster.submit("A worker dies while this job runs.", **FAST)

    deadline = time.monotonic() + 60
    while True:
        job = cluster.job(job_id)
        if job.lease_owner and job.status in {"processing", "rendering"}:
            break
        assert time.monotonic() < deadline, f"never started: {job.status}"
        time.sleep(0.05)
    running_pid = worker_pid(job.lease_owner)  # the worker, or its prefork pool child
    victim = next(w for w in workers if w.pid == os.getpgid(running_pid))
    survivor = next(w for w in workers if w is not victim)
    victim.kill()  # SIGKILL mid-job: no acknowledgement, no clean-up, its lease just stops

    (job,) = cluster.wait([job_id], {"completed", "failed"}, 120)
    assert job.status == "completed", (job.error, job.traceback)
    assert job.attempts == 2
    notes = [entry.get("note") or "" for entry in job.history]
    assert any("stopped responding" in note for note in notes), notes  # lease or process gone
    claims = [note for note in notes if note.startswith("attempt ")]
    assert len(claims) == 2
    first, second = (worker_pid(claim.rsplit(" on ", 1)[1]) for claim in claims)
    assert first == running_pid and os.getpgid(second) == survivor.pid
    assert [entry["status"] for entry in job.history].count("completed") == 1
    assert_outputs_once(cluster, job)
