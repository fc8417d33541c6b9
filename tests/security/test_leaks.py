"""What a tenant reads of their own job names no server machine, process or other job."""

from __future__ import annotations

import os
import socket

from conftest_api import Api


def test_events_and_job_name_no_worker(api: Api) -> None:
    key = api.key("alice")
    job_id = api.submit(key)
    assert api.wait(job_id, key)["status"] == "completed"
    stored = [e.message or "" for e in api.service.events(job_id)]
    assert any(socket.gethostname() in m for m in stored)  # the server keeps it for itself
    stream = api.client.get(f"/api/jobs/{job_id}/events", headers=api.headers(key)).text
    job = api.client.get(f"/api/jobs/{job_id}", headers=api.headers(key)).text
    for text in (stream, job):
        assert socket.gethostname() not in text
        assert f"-{os.getpid()}-" not in text
    assert "attempt 1 of 1 on a worker" in stream


def test_notes_lose_worker_names_and_other_jobs() -> None:
    from reelforge.service.executor import worker_name
    from reelforge.service.redact import public_note

    own, other = "a" * 32, "b" * 32
    note = f"worker {worker_name('inproc0')} stopped responding; reusing the output of {other}"
    assert public_note(note, own) == (
        "a worker stopped responding; reusing the output of another job"
    )
    assert public_note(f"job {own} failed", own) == f"job {own} failed"
