"""The status machine: allowed and illegal transitions, timestamps, history and events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reelforge.errors import JobError
from reelforge.service.db import Database
from reelforge.service.lifecycle import (
    ACTIVE,
    TRANSITIONS,
    JobStatus,
    can_transition,
    claim,
    transition,
)
from reelforge.service.models import Job, JobEvent


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    database.migrate()
    yield database
    database.dispose()


def _new_job(db: Database, **fields) -> str:
    with db.transaction() as session:
        job = Job(params={}, history=[], **fields)
        session.add(job)
        session.flush()
        return job.id


def test_migrations_create_tables_at_head(db):
    assert db.current_revision() is not None
    with db.session() as session:
        assert session.scalars(select(Job)).all() == []


def test_full_happy_path_stamps_times_history_and_events(db):
    job_id = _new_job(db)
    with db.transaction() as session:
        job = session.get(Job, job_id)
        transition(session, job, JobStatus.QUEUED, note="accepted")
    with db.transaction() as session:
        job = claim(session, job_id, "w1", lease_seconds=30)
        assert job is not None and job.attempts == 1 and job.lease_owner == "w1"
    with db.transaction() as session:
        job = session.get(Job, job_id)
        for status in ("rendering", "post_processing", "uploading"):
            transition(session, job, status)
            assert job.stage == status
        transition(session, job, "completed", result={"video": "jobs/x/video.mp4"})
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.status == "completed" and job.progress == 1.0
        assert job.queued_at and job.started_at and job.finished_at
        assert job.finished_at >= job.started_at >= job.queued_at
        assert job.lease_owner is None
        assert [h["status"] for h in job.history] == [
            "queued",
            "processing",
            "rendering",
            "post_processing",
            "uploading",
            "completed",
        ]
        events = session.scalars(select(JobEvent).where(JobEvent.job_id == job_id)).all()
        assert [e.status for e in events] == [h["status"] for h in job.history]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("submitted", "processing"),
        ("queued", "completed"),
        ("completed", "queued"),
        ("completed", "failed"),
        ("rendering", "processing"),
        ("uploading", "rendering"),
        ("failed", "completed"),
        ("cancelled", "processing"),
    ],
)
def test_illegal_transitions_raise_job_error(db, start, target):
    job_id = _new_job(db, status=start)
    with db.transaction() as session:
        job = session.get(Job, job_id)
        with pytest.raises(JobError) as info:
            transition(session, job, target)
        assert start in info.value.message and target in info.value.message
        assert info.value.hint
        assert job.status == start


def test_unknown_status_and_protected_fields_are_refused(db):
    job_id = _new_job(db)
    with db.transaction() as session:
        job = session.get(Job, job_id)
        with pytest.raises(JobError):
            transition(session, job, "exploded")
        with pytest.raises(TypeError):
            transition(session, job, "queued", version=7)


def test_table_shape():
    assert TRANSITIONS[JobStatus.COMPLETED] == frozenset()
    for status in ACTIVE:
        assert {JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED} <= TRANSITIONS[status]
    assert can_transition("failed", "queued") and can_transition("cancelled", "queued")
    assert not can_transition("submitted", "completed")


def test_retry_from_failed_resets_attempt_budget(db):
    job_id = _new_job(db, status="failed", attempts=3, error="boom", hint="h", traceback="tb")
    with db.transaction() as session:
        job = session.get(Job, job_id)
        transition(session, job, "queued", note="retry")
        assert job.attempts == 0 and job.error is None and job.traceback is None


def test_claim_is_compare_and_set(db):
    job_id = _new_job(db, status="queued")
    with db.transaction() as session:
        assert claim(session, job_id, "w1", 30) is not None
    with db.transaction() as session:
        assert claim(session, job_id, "w2", 30) is None  # already processing
    with db.session() as session:
        assert session.get(Job, job_id).lease_owner == "w1"


def test_stale_write_is_detected(db):
    """A writer holding an old copy cannot overwrite a concurrent status change."""
    from sqlalchemy.orm.exc import StaleDataError

    job_id = _new_job(db, status="queued")
    stale_session = db.session()
    stale = stale_session.get(Job, job_id)
    with db.transaction() as session:
        transition(session, session.get(Job, job_id), "cancelled")
    transition(stale_session, stale, "processing")
    with pytest.raises(StaleDataError):
        stale_session.commit()
    stale_session.close()
    with db.session() as session:
        assert session.get(Job, job_id).status == "cancelled"


def test_migrations_go_down_and_up_again(db):
    from alembic import command
    from sqlalchemy import inspect

    from reelforge.service.db import alembic_config

    assert {"jobs", "job_events", "media"} <= set(inspect(db.engine).get_table_names())
    command.downgrade(alembic_config(db), "base")
    assert db.current_revision() is None
    assert not {"jobs", "job_events", "media"} & set(inspect(db.engine).get_table_names())
    db.migrate()
    assert {"jobs", "job_events", "media"} <= set(inspect(db.engine).get_table_names())
    command.downgrade(alembic_config(db), "0001_jobs")
    assert db.current_revision() == "0001_jobs"
