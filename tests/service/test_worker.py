"""Workers: runs, progress, priorities, crash recovery, retries, cancellation, timeouts,
concurrency on SQLite, and one real preview render end to end."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from service_support import TINY
from service_support import VIDEO_OUTPUTS as OUTPUTS
from sqlalchemy import select, update

from reelforge.service.executor import InProcessExecutor
from reelforge.service.lifecycle import claim
from reelforge.service.models import Job, utcnow
from reelforge.service.recovery import requeue_expired
from reelforge.service.worker import pick_ready, run_job

FILES = [output.file for output in OUTPUTS.values()]


def wait_for(condition, timeout: float = 20.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def stored(service, job_id: str) -> list[str]:
    folder = service.storage.root / "jobs" / job_id
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def run(service, job_id: str, worker: str = "w1"):
    return run_job(job_id, service.db, service.storage, service.settings, worker)


def test_run_uploads_every_output_with_fixed_keys(service, fake_make):
    job = service.submit_video({"storyboard": TINY, "preview": True})
    assert run(service, job.id) == "completed"
    done = service.get(job.id)
    assert done.status == "completed" and done.progress == 1.0 and done.eta_s == 0.0
    assert set(done.result) == set(OUTPUTS)
    for name, key in done.result.items():
        assert key == f"jobs/{job.id}/{OUTPUTS[name].file}" and service.storage.exists(key)
    assert stored(service, job.id) == sorted([*FILES, "input.json"])
    assert [h["status"] for h in done.history] == [
        "submitted",
        "queued",
        "processing",
        "rendering",
        "post_processing",
        "uploading",
        "completed",
    ]
    progress = [e.progress for e in service.events(job.id) if e.progress is not None]
    assert progress == sorted(progress) and progress[-1] == 1.0
    # the work folder is gone
    assert not (service.settings.work_dir / job.id).exists()


def test_a_job_runs_once_even_if_run_twice(service, fake_make):
    job = service.submit_video({"storyboard": TINY})
    assert run(service, job.id) == "completed"
    assert run(service, job.id, "w2") is None
    assert len(fake_make.calls) == 1


def test_identical_input_reuses_the_finished_output(service, fake_make):
    first = service.submit_video({"storyboard": TINY, "preview": True})
    run(service, first.id)
    second = service.submit_video({"storyboard": TINY, "preview": True})
    assert run(service, second.id) == "completed"
    reused = service.get(second.id)
    assert reused.cached_from == first.id and len(fake_make.calls) == 1
    assert set(reused.result) == set(OUTPUTS)
    # copies, not shared keys: deleting the first job keeps the second's files
    service.delete(first.id)
    assert all(service.storage.exists(key) for key in reused.result.values())


def test_priority_order_critical_first_then_fifo(service, fake_make):
    order = ["low", "medium", "critical", "high", "medium", "critical"]
    jobs = [
        service.submit_video({"storyboard": {"scenes": [f"Job {i}."]}}, priority=p)
        for i, p in enumerate(order)
    ]
    ready = pick_ready(service.db, ("cpu",), limit=10)
    expected = [jobs[i].id for i in (2, 5, 3, 1, 4, 0)]
    assert ready == expected
    executor = InProcessExecutor(service.db, service.storage, service.settings, workers=1)
    ran: list[str] = []
    fake_make.before = lambda board: (
        ran.append(board.scenes[0].narration)
        if not (ran and ran[-1] == board.scenes[0].narration)
        else None
    )
    executor.start()
    try:
        wait_for(lambda: service.list(status="completed")[1] == len(jobs))
    finally:
        executor.shutdown()
    assert ran == [f"Job {i}." for i in (2, 5, 3, 1, 4, 0)]


def test_gpu_jobs_wait_for_a_gpu_worker(service, fake_make):
    job = service.submit_video({"storyboard": TINY, "queue": "gpu"})
    assert pick_ready(service.db, ("cpu",)) == []
    assert pick_ready(service.db, ("gpu",)) == [job.id]


def test_crashed_worker_job_is_recovered_and_completes_once(service, fake_make):
    job = service.submit_video({"storyboard": TINY})
    # A worker claims the job, starts it, and dies without a word: its lease runs out.
    with service.db.transaction() as session:
        assert claim(session, job.id, "dead-worker", lease_seconds=30) is not None
    assert service.recover() == 0  # the lease is still live: nothing to do
    assert service.get(job.id).status == "processing"
    assert run(service, job.id, "w2") is None  # nobody else can take it meanwhile
    with service.db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert service.recover() == 1
    recovered = service.get(job.id)
    assert recovered.status == "queued" and recovered.lease_owner is None
    assert "dead-worker" in recovered.history[-1]["note"]
    assert run(service, job.id, "w2") == "completed"
    done = service.get(job.id)
    assert done.attempts == 2
    assert stored(service, job.id) == sorted([*FILES, "input.json"])


def test_lost_lease_on_last_attempt_fails_the_job(service):
    job = service.submit_video({"storyboard": TINY})
    with service.db.transaction() as session:
        session.execute(update(Job).where(Job.id == job.id).values(max_attempts=1))
    with service.db.transaction() as session:
        claim(session, job.id, "dead-worker", lease_seconds=0.01)
    time.sleep(0.05)
    assert requeue_expired(service.db, service.settings) == [job.id]
    failed = service.get(job.id)
    assert failed.status == "failed" and "stopped responding" in failed.error and failed.hint


def test_a_worker_that_lost_its_lease_does_not_overwrite(service, fake_make):
    """The job is recovered while the old worker still runs: the old one must back off."""
    job = service.submit_video({"storyboard": TINY})

    def steal(board):
        if len(fake_make.calls) == 1 and service.get(job.id).lease_owner == "slow":
            with service.db.transaction() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job.id)
                    .values(lease_expires_at=utcnow() - timedelta(seconds=1))
                )
            requeue_expired(service.db, service.settings)

    fake_make.before = steal
    assert run(service, job.id, "slow") == "queued"
    fake_make.before = None
    assert run(service, job.id, "fresh") == "completed"
    assert service.get(job.id).history[-1]["status"] == "completed"


def test_failure_is_retried_with_backoff_then_succeeds(service, fake_make):
    service.settings.retry_backoff_s = 30
    failures = [RuntimeError("disk on fire")]

    def flaky(board):
        if failures:
            raise failures.pop()

    fake_make.before = flaky
    job = service.submit_video({"storyboard": TINY})
    assert run(service, job.id) == "queued"
    waiting = service.get(job.id)
    assert waiting.error == "RuntimeError: disk on fire"
    assert "disk on fire" in waiting.traceback and "Traceback" in waiting.traceback
    delay = (waiting.next_attempt_at - utcnow()).total_seconds()
    assert 25 < delay <= 30
    assert run(service, job.id) is None  # not before its time
    assert pick_ready(service.db, ("cpu",)) == []
    with service.db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
    assert run(service, job.id) == "completed"
    done = service.get(job.id)
    assert done.attempts == 2 and done.error is None and done.traceback is None
    notes = [h["note"] or "" for h in done.history]
    assert any("attempt 1 failed" in n and "retry in 30" in n for n in notes)


def test_backoff_doubles_and_is_capped(service_settings):
    service_settings.retry_backoff_s = 10
    service_settings.retry_backoff_max_s = 35
    assert [service_settings.backoff_for(n) for n in (1, 2, 3, 4)] == [10, 20, 35, 35]


def test_attempts_run_out_and_the_job_fails_with_its_traceback(service, fake_make):
    def broken(board):
        raise ValueError("always broken")

    fake_make.before = broken
    job = service.submit_video({"storyboard": TINY})
    statuses = [run(service, job.id) for _ in range(3)]
    assert statuses == ["queued", "queued", "failed"]
    failed = service.get(job.id)
    assert failed.status == "failed" and failed.attempts == 3
    assert "always broken" in failed.error and "ValueError" in failed.traceback
    assert stored(service, job.id) == ["input.json"]


def test_reelforge_errors_keep_message_and_hint(service, fake_make):
    from reelforge.errors import EngineFailed

    def engine(board):
        raise EngineFailed("the voice engine crashed", hint="reinstall piper")

    fake_make.before = engine
    service.settings.max_attempts = 1
    job = service.submit_video({"storyboard": TINY})
    assert run(service, job.id) == "failed"
    failed = service.get(job.id)
    assert (failed.error, failed.hint) == ("the voice engine crashed", "reinstall piper")


def test_cancelling_a_running_job_stops_it(service, fake_make):
    job = service.submit_video({"storyboard": TINY})

    def cancel_midway(board):
        if len(fake_make.calls) == 1 and service.get(job.id).status == "processing":
            service.cancel(job.id)

    fake_make.before = cancel_midway
    assert run(service, job.id) == "cancelled"
    cancelled = service.get(job.id)
    assert cancelled.status == "cancelled" and cancelled.result is None
    assert stored(service, job.id) == ["input.json"]
    assert cancelled.history[-1]["status"] == "cancelled"


def test_cancel_while_running_in_the_executor(service, fake_make):
    started = threading.Event()
    release = threading.Event()

    def block(board):
        started.set()
        release.wait(10)

    fake_make.before = block
    executor = InProcessExecutor(service.db, service.storage, service.settings, workers=1)
    executor.start()
    try:
        job = service.submit_video({"storyboard": TINY})
        executor.submit(job.id, job.queue, job.priority)
        assert started.wait(10)
        service.cancel(job.id)
        release.set()
        wait_for(lambda: not executor.running)
    finally:
        release.set()
        executor.shutdown()
    assert service.get(job.id).status == "cancelled"
    assert stored(service, job.id) == ["input.json"]


def test_deleting_a_running_job_leaves_no_files(service, fake_make):
    job = service.submit_video({"storyboard": TINY})

    deleted: list[bool] = []

    def delete_midway(board):
        if not deleted:
            deleted.append(True)
            service.delete(job.id)

    fake_make.before = delete_midway
    assert run(service, job.id) == "cancelled"
    assert deleted and stored(service, job.id) == []
    assert service.list()[1] == 0


def test_timeout_fails_the_attempt(service, fake_make):
    service.settings.timeouts = {"video": 0.2}
    service.settings.max_attempts = 1
    fake_make.before = lambda board: time.sleep(0.15)
    job = service.submit_video({"storyboard": TINY})
    assert run(service, job.id) == "failed"
    failed = service.get(job.id)
    assert "longer than its limit" in failed.error and failed.hint


def test_two_executor_threads_never_run_the_same_job(service, fake_make):
    jobs = [service.submit_video({"storyboard": {"scenes": [f"Number {i}."]}}) for i in range(12)]
    slow = threading.Lock()

    def pause(board):
        with slow:
            time.sleep(0.002)

    fake_make.before = pause
    executor = InProcessExecutor(service.db, service.storage, service.settings, workers=2)
    other = InProcessExecutor(service.db, service.storage, service.settings, workers=2)
    executor.start()
    other.start()
    try:
        for job in jobs:
            executor.submit(job.id, job.queue, job.priority)
            other.submit(job.id, job.queue, job.priority)
        wait_for(lambda: service.list(status="completed")[1] == len(jobs), timeout=40)
    finally:
        executor.shutdown()
        other.shutdown()
    assert len(fake_make.calls) == len(jobs)
    assert len(set(fake_make.calls)) == len(jobs)  # one work folder per job, each used once
    with service.db.session() as session:
        attempts = session.scalars(select(Job.attempts)).all()
    assert attempts == [1] * len(jobs)


def test_concurrent_claims_have_one_winner(service):
    job = service.submit_video({"storyboard": TINY})
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def contend(name: str) -> None:
        barrier.wait()
        with service.db.transaction() as session:
            if claim(session, job.id, name, lease_seconds=30) is not None:
                winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert service.get(job.id).lease_owner == winners[0]


def test_restart_loses_no_queued_job(service_settings, fake_make):
    from reelforge.service import create_service

    first = create_service(service_settings, start=False)
    ids = [first.submit_video({"storyboard": TINY}).id for _ in range(3)]
    first.close()
    service_settings.workers = 1
    second = create_service(service_settings)  # recover() + start()
    try:
        wait_for(lambda: all(second.get(i).status == "completed" for i in ids))
    finally:
        second.close()


def test_real_preview_render_end_to_end(service):
    """The real pipeline, at preview size: an MP4 and its sidecars land in storage."""
    from reelforge.media.probe import probe

    job = service.submit_video({"storyboard": TINY, "preview": True})
    assert run(service, job.id) == "completed", service.get(job.id).error
    done = service.get(job.id)
    assert set(done.result) == set(OUTPUTS)
    info = probe(service.storage.local_path(done.result["video"]))
    assert info.has_video and info.has_audio and info.duration_ms > 500
    srt = b"".join(service.storage.open_range(done.result["srt"])).decode()
    assert "Hello" in srt
    stages = [e.status for e in service.events(job.id)]
    assert stages.index("rendering") < stages.index("uploading") < stages.index("completed")


def test_a_stuck_render_is_timed_out_by_the_heartbeat(service, fake_make):
    """No progress reports at all: the lease keeper fails the job when its time is up."""
    service.settings.timeouts = {"video": 0.3}
    service.settings.lease_seconds = 0.3
    service.settings.max_attempts = 1
    stuck: list[str] = []

    def hang(board):
        if not stuck:
            stuck.append("once")
            time.sleep(1.0)

    fake_make.before = hang
    job = service.submit_video({"storyboard": TINY})
    assert run(service, job.id) == "failed"
    failed = service.get(job.id)
    assert "longer than its limit of 0.3 s" in failed.error
    assert failed.result is None and stored(service, job.id) == ["input.json"]
    assert not (service.settings.work_dir / job.id).exists()


def test_full_storage_fails_the_job_clearly_and_keeps_nothing_half_done(service, fake_make):
    service.settings.max_attempts = 3  # a full store is not retried: it would only fill again
    job = service.submit_video({"storyboard": TINY})
    used = service.storage.usage_bytes()
    service.storage.quota_bytes = used + 150  # room for a few sidecars, not for everything
    assert run(service, job.id) == "failed"
    failed = service.get(job.id)
    assert "quota" in failed.error and "QUOTA" in failed.hint
    assert failed.attempts == 1 and failed.status == "failed"
    assert stored(service, job.id) == ["input.json"]
    assert service.storage.usage_bytes() == used
    # Room again: a retry completes.
    service.storage.quota_bytes = None
    service.retry(job.id)
    assert run(service, job.id) == "completed"


def test_full_storage_refuses_a_submit_and_keeps_no_job(service):
    from reelforge.service.storage import StorageError

    service.storage.quota_bytes = service.storage.usage_bytes() + 10
    with pytest.raises(StorageError, match="quota"):
        service.submit_video({"storyboard": TINY})
    assert service.list()[1] == 0


def test_a_dead_local_process_job_is_recovered_without_waiting_for_the_lease(service, fake_make):
    """After a crash and restart on the same machine, a job held by the dead process is
    re-queued at once, not after its lease runs out."""
    import subprocess
    import sys

    from reelforge.service.recovery import dead_local_worker, worker_name

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(gone.stdout)
    ghost = worker_name("inproc0").rsplit("-", 2)[0] + f"-{pid}-abc123"
    assert dead_local_worker(ghost)
    assert not dead_local_worker(worker_name("inproc0"))  # this very process
    assert not dead_local_worker("w1") and not dead_local_worker(None)
    job = service.submit_video({"storyboard": TINY})
    with service.db.transaction() as session:
        claim(session, job.id, ghost, lease_seconds=3600)
    assert service.recover() == 1
    assert "process is gone" in service.get(job.id).history[-1]["note"]
    assert run(service, job.id) == "completed"


_CRASHING_WORKER = r"""
import sys, time
from pathlib import Path
import reelforge.pipeline
from reelforge.service import create_service
from reelforge.service.settings import ServiceSettings

marker = Path(sys.argv[2])

def hanging_make(storyboard, output, progress=None, **kwargs):
    progress("voice", 0.5)
    marker.write_text("rendering")
    time.sleep(60)  # killed here

reelforge.pipeline.make = hanging_make
service = create_service(ServiceSettings(data_dir=sys.argv[1], workers=1, poll_seconds=0.05))
time.sleep(60)
"""


def test_a_killed_worker_process_loses_nothing(service, fake_make, tmp_path):
    """SIGKILL a real worker process in the middle of a job: the job is recovered and finishes,
    with one set of outputs."""
    import signal
    import subprocess
    import sys

    job = service.submit_video({"storyboard": TINY})
    marker = tmp_path / "started"
    script = tmp_path / "crashing_worker.py"
    script.write_text(_CRASHING_WORKER)
    worker = subprocess.Popen(
        [sys.executable, str(script), str(service.settings.data_dir), str(marker)]
    )
    try:
        wait_for(marker.exists, timeout=60)
        held = service.get(job.id)
        assert held.status == "processing" and held.lease_owner.startswith("inproc0-")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert service.recover() == 1  # its process is gone: no need to wait for the lease
    assert run(service, job.id, "survivor") == "completed"
    done = service.get(job.id)
    assert done.attempts == 2 and [h["status"] for h in done.history].count("completed") == 1
    assert stored(service, job.id) == sorted([*FILES, "input.json"])


def test_manifest_names_no_server_paths(service, fake_make, tmp_media, monkeypatch):
    """Uploads appear as their media: references, work files by relative names."""
    import io
    import json

    # The fixture's class, not ``from conftest import``: another folder's conftest may hold that
    # module name when the whole suite runs.
    FakeMake = type(fake_make)  # noqa: N806

    png = tmp_media.make_image("a.png").read_bytes()
    image = service.store_upload(None, "a.png", io.BytesIO(png), None)

    class PathLeakingMake(FakeMake):
        def __call__(self, storyboard, output, **kwargs):
            made = super().__call__(storyboard, output, **kwargs)
            voice = output.parent / ".work" / "voice.wav"
            voice.parent.mkdir(parents=True, exist_ok=True)
            voice.write_bytes(b"RIFF")
            made.manifest.write_text(
                json.dumps(
                    {
                        "video": output.name,
                        "timeline": {
                            "clips": [
                                {"path": storyboard.scenes[0].visual.path},
                                {"path": str(voice)},
                            ],
                            "text": "/ not a path, just words",
                        },
                    }
                )
            )
            return made

    monkeypatch.setattr("reelforge.pipeline.make", PathLeakingMake())
    job = service.submit_video(
        {"storyboard": {"scenes": [{"narration": "Look.", "visual": f"media:{image.id}"}]}}
    )
    assert run(service, job.id) == "completed"
    text = b"".join(service.storage.open_range(service.get(job.id).result["manifest"])).decode()
    manifest = json.loads(text)
    clips = manifest["timeline"]["clips"]
    assert clips[0]["path"] == f"media:{image.id}.png"
    assert clips[1]["path"] == "work:.work/voice.wav"
    assert manifest["timeline"]["text"] == "/ not a path, just words"
    assert str(service.settings.data_dir) not in text and "/tmp" not in text


def test_shutdown_gives_running_jobs_back_to_the_queue(service, fake_make):
    """Stopping the server does not wait for a long render, and the job resumes at restart
    without losing an attempt."""
    started = threading.Event()

    def slow(board):
        started.set()
        time.sleep(0.1)

    fake_make.before = slow
    executor = InProcessExecutor(service.db, service.storage, service.settings, workers=1)
    executor.start()
    job = service.submit_video({"storyboard": TINY})
    executor.submit(job.id, job.queue, job.priority)
    assert started.wait(10)
    began = time.monotonic()
    executor.shutdown(wait=True)
    assert time.monotonic() - began < 2
    released = service.get(job.id)
    assert released.status == "queued" and released.attempts == 0
    assert "shut down" in released.history[-1]["note"]
    fake_make.before = None
    assert run(service, job.id) == "completed"
    assert service.get(job.id).attempts == 1


def test_health_reports_the_worker_pool(service):
    executor = InProcessExecutor(service.db, service.storage, service.settings, workers=2)
    service.executor = executor
    executor.start()
    try:
        report = service.health()
        assert report["ok"] and report["queue"]["workers"]["alive"] == 2
        assert report["database"]["ok"] and report["storage"]["ok"]
    finally:
        executor.shutdown()
    stopped = service.health()["queue"]
    assert stopped["ok"] and stopped["workers"]["alive"] == 0


def test_heartbeat_reads_every_second_but_writes_only_to_renew_the_lease(service, fake_make):
    """A running job is watched every second (a cancel must stop ffmpeg at once) without
    writing to the database every second: the lease is renewed every third of its length."""
    from sqlalchemy import event

    service.settings.lease_seconds = 6  # renewed every 2 s; looked at every 1 s
    job = service.submit_video({"storyboard": TINY})
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == f"lease-{job.id}":
            statements.append(statement.split(None, 1)[0].upper())

    slept = []

    def stall(storyboard):
        if not slept:
            slept.append(True)
            time.sleep(4.5)  # a long stage that reports no progress

    fake_make.before = stall
    event.listen(service.db.engine, "before_cursor_execute", record)
    try:
        assert run(service, job.id) == "completed"
    finally:
        event.remove(service.db.engine, "before_cursor_execute", record)
    assert 1 <= statements.count("UPDATE") <= 3
    assert statements.count("SELECT") >= 2
