"""The job service's key flows on a real PostgreSQL server (the other service tests use SQLite).

The core's own tests for those flows run here again with ``service_settings`` (and ``db``)
pointing at a fresh PostgreSQL database; the tests below add what only a real server with real
concurrent connections shows: many workers racing for many jobs, and the migrations' round trip.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from service_support import FAST_SETTINGS
from sqlalchemy import select, text, update

pytest.importorskip("psycopg")
pytest.importorskip("sqlalchemy")

from reelforge.service.db import Database, alembic_config
from reelforge.service.lifecycle import JobStatus, claim
from reelforge.service.models import Job, utcnow
from reelforge.service.recovery import requeue_expired
from reelforge.service.settings import ServiceSettings

# The core's tests of submit, claim, run, retry, recovery and restart: collected here again, on
# PostgreSQL. Looked up by name so a renamed test drops out instead of breaking collection.
_REUSED = {
    "test_jobs": [
        "test_submit_stores_input_and_queues",
        "test_get_list_and_owner_isolation",
        "test_cancel_retry_conflicts",
        "test_delete_removes_files_rows_and_events",
    ],
    "test_worker": [
        "test_run_uploads_every_output_with_fixed_keys",
        "test_a_job_runs_once_even_if_run_twice",
        "test_priority_order_critical_first_then_fifo",
        "test_crashed_worker_job_is_recovered_and_completes_once",
        "test_lost_lease_on_last_attempt_fails_the_job",
        "test_a_worker_that_lost_its_lease_does_not_overwrite",
        "test_failure_is_retried_with_backoff_then_succeeds",
        "test_concurrent_claims_have_one_winner",
        "test_restart_loses_no_queued_job",
    ],
    "test_lifecycle": [
        "test_migrations_create_tables_at_head",
        "test_full_happy_path_stamps_times_history_and_events",
        "test_claim_is_compare_and_set",
        "test_stale_write_is_detected",
    ],
}
for _module_name, _names in _REUSED.items():
    try:
        _module = __import__(_module_name)
    except ImportError:  # pragma: no cover - the core's test file moved
        continue
    for _name in _names:
        if callable(getattr(_module, _name, None)):
            globals()[_name + "_on_postgres"] = getattr(_module, _name)


@pytest.fixture
def service_settings(tmp_path: Path, migrated_postgres_url: str) -> ServiceSettings:
    """The core tests' settings, on a fresh PostgreSQL database."""
    return ServiceSettings(
        data_dir=tmp_path / "data", database_url=migrated_postgres_url, **FAST_SETTINGS
    )


@pytest.fixture
def db(migrated_postgres_url: str) -> Iterator[Database]:
    database = Database(migrated_postgres_url)
    database.migrate()  # already at head: checks, changes nothing
    yield database
    database.dispose()


def _queued_jobs(db: Database, count: int) -> list[str]:
    now = utcnow()
    with db.transaction() as session:
        jobs = [
            Job(params={}, history=[], status=JobStatus.QUEUED.value, queued_at=now)
            for _ in range(count)
        ]
        session.add_all(jobs)
        session.flush()
        return [job.id for job in jobs]


def test_the_database_is_really_postgres(db: Database) -> None:
    assert db.engine.dialect.name == "postgresql"
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT version()")).scalar().startswith("PostgreSQL")


def test_migrations_go_up_down_and_up_again(postgres_url: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    db = Database(postgres_url)  # empty: every migration runs on PostgreSQL
    assert db.current_revision() is None
    db.migrate()
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert db.current_revision() == head
    command.downgrade(alembic_config(db), "base")
    assert db.current_revision() is None
    with db.engine.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        assert set(tables) <= {"alembic_version"}
    db.migrate()
    assert db.current_revision() == head
    db.dispose()


def test_racing_workers_claim_each_job_exactly_once(db: Database) -> None:
    """8 workers, each on its own connection, race for 40 jobs in their own random order."""
    job_ids = _queued_jobs(db, 40)
    wins: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(name: str) -> None:
        order = job_ids[:]
        random.Random(name).shuffle(order)
        try:
            barrier.wait()
            for job_id in order:
                with db.transaction() as session:
                    if claim(session, job_id, name, lease_seconds=60) is not None:
                        wins.append((job_id, name))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert Counter(job_id for job_id, _ in wins) == Counter(job_ids)  # one winner per job
    with db.session() as session:
        rows = session.execute(select(Job.id, Job.status, Job.attempts, Job.lease_owner)).all()
    owners = dict(wins)
    for job_id, status, attempts, owner in rows:
        assert (status, attempts, owner) == ("processing", 1, owners[job_id])
    assert len({name for _, name in wins}) > 1  # a real race: more than one worker won some


def test_recovery_runs_safely_from_many_processes_at_once(db: Database) -> None:
    """Every reaper of a cluster may run requeue_expired at the same moment: each lost job is
    re-queued once, and a job on its last attempt fails once."""
    job_ids = _queued_jobs(db, 12)
    with db.transaction() as session:
        for job_id in job_ids:
            assert claim(session, job_id, "dead-worker", lease_seconds=60) is not None
        session.execute(
            update(Job)
            .where(Job.id.in_(job_ids))
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        session.execute(update(Job).where(Job.id == job_ids[0]).values(max_attempts=1))
    settings = ServiceSettings(database_url=db.url, data_dir=Path("/nonexistent"))
    results: list[list[str]] = []
    barrier = threading.Barrier(4)

    def reaper() -> None:
        barrier.wait()
        results.append(requeue_expired(db, settings))

    threads = [threading.Thread(target=reaper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    handled = [job_id for result in results for job_id in result]
    assert sorted(handled) == sorted(job_ids)  # each job handled by exactly one reaper
    with db.session() as session:
        statuses = dict(session.execute(select(Job.id, Job.status)).all())
        histories = dict(session.execute(select(Job.id, Job.history)).all())
    assert statuses.pop(job_ids[0]) == "failed"
    assert set(statuses.values()) == {"queued"}
    for job_id in job_ids:
        assert sum("lease expired" in (h.get("note") or "") for h in histories[job_id]) == 1
