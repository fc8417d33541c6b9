"""The Celery app, executor and reaper against a real Redis (no worker processes here)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from servers import RedisServer, free_port
from sqlalchemy import update

pytest.importorskip("celery")
pytest.importorskip("redis")

from reelforge.service.celery_app import (
    MARKER,
    TASK_NAME,
    CeleryExecutor,
    Reaper,
    broker_priority,
    make_celery,
    visibility_timeout,
)
from reelforge.service.db import Database
from reelforge.service.lifecycle import JobStatus, claim
from reelforge.service.models import PRIORITIES, Job, utcnow
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import LocalStorage


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer) -> ServiceSettings:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()  # the session's Redis: start every test from an empty broker
    client.close()
    return ServiceSettings(
        data_dir=tmp_path / "data",
        executor="celery",
        broker_url=redis_server.url,
        lease_seconds=4,
        timeouts={"video": 900.0},
        timeout_s=600.0,
    )


@pytest.fixture
def executor(settings: ServiceSettings) -> Iterator[CeleryExecutor]:
    db = Database(settings.database_url)
    db.migrate()
    made = CeleryExecutor(db, LocalStorage(settings.data_dir / "storage"), settings)
    yield made
    made.shutdown()
    db.dispose()


def _queued(db: Database, queue: str = "cpu", priority: str = "medium") -> str:
    with db.transaction() as session:
        job = Job(
            params={},
            history=[],
            status=JobStatus.QUEUED.value,
            queue=queue,
            priority=PRIORITIES[priority],
            queued_at=utcnow(),
        )
        session.add(job)
        session.flush()
        return job.id


def _messages(executor: CeleryExecutor, name: str) -> list[tuple[str, list]]:
    """(task name, args) of the messages waiting in the Redis list ``name``."""
    found = []
    for raw in executor.redis.lrange(name, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], body[0]))
    return found


def test_the_app_never_loses_a_message_to_a_dying_worker(settings: ServiceSettings) -> None:
    app = make_celery(settings)
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result and not conf.result_backend
    assert {queue.name for queue in conf.task_queues} == {"cpu", "gpu"}
    # Longer than the longest job may run: a running job is never handed out twice.
    assert conf.broker_transport_options["visibility_timeout"] == visibility_timeout(settings)
    assert visibility_timeout(settings) > 900
    task = app.tasks[TASK_NAME]
    assert task.acks_late and task.reject_on_worker_lost and task.ignore_result


def test_critical_jobs_get_the_priority_redis_serves_first() -> None:
    assert [
        broker_priority(PRIORITIES[name]) for name in ("critical", "high", "medium", "low")
    ] == [
        0,
        1,
        2,
        3,
    ]
    assert broker_priority(99) == 0 and broker_priority(-5) == 3


def test_submit_sends_to_the_jobs_queue_with_its_priority(executor: CeleryExecutor) -> None:
    urgent = _queued(executor.db, "gpu", "critical")
    later = _queued(executor.db, "gpu", "low")
    plain = _queued(executor.db, "cpu", "medium")
    for job_id in (urgent, later, plain):
        with executor.db.session() as session:
            job = session.get(Job, job_id)
            executor.submit(job.id, job.queue, job.priority)
    executor.submit(urgent, "gpu", PRIORITIES["critical"])  # again (an API restart): no copy
    sep = "\x06\x16"
    assert _messages(executor, "gpu") == [(TASK_NAME, [urgent])]  # priority 0: read first
    assert _messages(executor, f"gpu{sep}3") == [(TASK_NAME, [later])]
    assert _messages(executor, f"cpu{sep}2") == [(TASK_NAME, [plain])]
    assert executor.health() == {
        "ok": True,
        "broker": executor.settings.broker_url,
        "queues": {"cpu": 1, "gpu": 2},
    }
    assert all(executor.redis.exists(MARKER + job_id) for job_id in (urgent, later, plain))


def test_a_retry_waits_for_its_backoff(executor: CeleryExecutor) -> None:
    job_id = _queued(executor.db)
    with executor.db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(next_attempt_at=utcnow() + timedelta(seconds=30))
        )
    executor.submit(job_id, "cpu", PRIORITIES["medium"])
    ((_, _),) = _messages(executor, "cpu\x06\x162")
    raw = json.loads(executor.redis.lrange("cpu\x06\x162", 0, -1)[0])
    assert raw["headers"]["eta"]  # Celery holds it back until the retry is due


def test_the_reaper_sends_what_the_broker_lost_and_requeues_lost_workers_jobs(
    executor: CeleryExecutor,
) -> None:
    sent = _queued(executor.db)
    executor.submit(sent, "cpu", PRIORITIES["medium"])
    never_sent = _queued(executor.db)  # e.g. submitted while Redis was down
    assert executor.reap() == {"requeued": 0, "sent": 1}  # only the one without a message
    assert executor.reap() == {"requeued": 0, "sent": 0}  # nothing twice
    assert executor.health()["queues"]["cpu"] == 2

    executor.redis.flushdb()  # Redis restarted without persistence: messages and markers gone
    held = _queued(executor.db)
    with executor.db.transaction() as session:  # a worker took it, then died
        claim(session, held, "dead-worker", lease_seconds=4)
        session.execute(
            update(Job).where(Job.id == held).values(lease_expires_at=utcnow() - timedelta(1))
        )
    assert executor.reap() == {"requeued": 1, "sent": 3}
    assert sorted(args[0] for _, args in _messages(executor, "cpu\x06\x162")) == sorted(
        [sent, never_sent, held]
    )


def test_one_reaper_per_interval_across_the_cluster(settings: ServiceSettings) -> None:
    Database(settings.database_url).migrate()
    app = make_celery(settings)
    first, second = Reaper(app, settings), Reaper(app, settings)
    assert first.interval == 2.0  # half a lease
    assert first.tick() == {"requeued": 0, "sent": 0}
    assert second.tick() is None  # the lock is held for this interval
    time.sleep(first.interval)
    assert second.tick() == {"requeued": 0, "sent": 0}


def test_submit_while_the_broker_is_down_keeps_the_job_and_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ServiceSettings(
        data_dir=tmp_path, executor="celery", broker_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    db = Database(settings.database_url)
    db.migrate()
    executor = CeleryExecutor(db, LocalStorage(tmp_path / "storage"), settings)
    job_id = _queued(db)
    started = time.monotonic()
    executor.submit(job_id, "cpu", PRIORITIES["medium"])  # no exception: the job is safe
    assert time.monotonic() - started < 10
    assert "stays queued" in caplog.text
    with db.session() as session:
        assert session.get(Job, job_id).status == "queued"
    health = executor.health()
    assert health["ok"] is False and "Connection" in health["error"]
    executor.shutdown()
    db.dispose()


def test_worker_command_parses_and_checks_before_taking_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from reelforge.service.worker_cli import add_worker_command, main

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    handlers = add_worker_command(sub)
    assert set(handlers) == {"worker"}
    args = parser.parse_args(["worker", "--queue", "gpu", "--queue", "cpu", "-c", "2"])
    assert (args.queues, args.concurrency, args.pool) == (["gpu", "cpu"], 2, None)

    assert main(["--concurrency", "0"]) == 7
    assert "at least 1" in capsys.readouterr().err
    # An empty database: refuse to start rather than fail every job.
    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REELFORGE_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert main(["--queue", "cpu"]) == 7
    err = capsys.readouterr().err
    assert "no reelforge tables" in err and "hint:" in err


def test_the_service_submits_through_celery_and_a_restart_adds_no_duplicates(
    settings: ServiceSettings,
) -> None:
    from reelforge.service import create_service

    first = create_service(settings)  # executor=celery from the settings
    try:
        assert isinstance(first.executor, CeleryExecutor)
        job = first.submit_video({"script": "Queued for a worker.", "preview": True})
        assert first.get(job.id).status == "queued"
    finally:
        first.close()
    second = create_service(settings)  # an API restart hands every queued job over again
    try:
        executor: CeleryExecutor = second.executor  # type: ignore[assignment]
        assert executor.health()["queues"] == {"cpu": 1, "gpu": 0}
        assert _messages(executor, "cpu\x06\x162") == [(TASK_NAME, [job.id])]
    finally:
        second.close()


def test_a_taken_message_is_not_replaced_before_its_claim(executor: CeleryExecutor) -> None:
    job_id = _queued(executor.db)
    executor.submit(job_id, "cpu", PRIORITIES["medium"])
    executor.redis.delete("cpu\x06\x162")  # a worker took the message...
    executor.taking(job_id)  # ...and is about to claim the job, still queued in the database
    assert executor.reap() == {"requeued": 0, "sent": 0}
    assert 0 < executor.redis.pttl(MARKER + job_id) <= 4000  # for a lease at most
    executor.forget(job_id)  # the claim did not happen (e.g. the job is not due yet)
    assert executor.reap() == {"requeued": 0, "sent": 1}
