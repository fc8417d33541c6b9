"""``GET /api/health`` and ``GET /metrics``: anyone may learn whether the server is up, only an
admin key learns its internals (running job ids, worker names, paths, job counts)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest_api import Api, assert_problem


@pytest.fixture
def busy(api: Api, fake_make: Any) -> Iterator[tuple[Api, str]]:
    """The api with alice's job held running inside the renderer."""
    gate = threading.Event()
    fake_make.before = lambda board: gate.wait(20)
    key = api.key("alice")
    job_id = api.submit(key)
    deadline = time.monotonic() + 20
    while api.service.get(job_id).status in ("submitted", "queued"):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    try:
        yield api, job_id
    finally:
        gate.set()


def _secrets(api: Api, job_id: str) -> list[str]:
    import shutil

    return [
        job_id,
        socket.gethostname(),
        f"-{os.getpid()}-",
        str(api.settings.data_dir),
        str(shutil.which("ffmpeg")),
    ]


def test_anonymous_and_tenant_health_says_only_up_or_down(busy: tuple[Api, str]) -> None:
    api, job_id = busy
    mallory = api.headers(api.key("mallory"))
    for headers in ({}, mallory):
        response = api.client.get("/api/health", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] in ("ok", "degraded")
        assert body["parts"]["database"] == {
            "ok": True,
            "required": True,
            "detail": "",
            "info": {},
        }
        for name, part in body["parts"].items():
            assert part["detail"] == "" and part["info"] == {}, name
        for secret in _secrets(api, job_id):
            assert secret not in response.text, secret


def test_admin_key_sees_the_details(busy: tuple[Api, str]) -> None:
    api, job_id = busy
    admin = api.headers(api.key("ops", admin=True))
    response = api.client.get("/api/health", headers=admin)
    assert response.status_code == 200, response.text
    assert job_id in response.text  # the running job, under the queue's workers
    assert response.json()["parts"]["ffmpeg"]["info"]["ffmpeg"]


def test_a_wrong_key_is_refused_not_downgraded(api: Api) -> None:
    assert_problem(api.client.get("/api/health", headers=api.headers("rf_wrong")), 401)


def test_down_is_still_reported_to_anyone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from reelforge.errors import JobError

    def down() -> None:
        raise JobError(f"the database is unreachable at {api.settings.data_dir}", hint="start it")

    monkeypatch.setattr(api.service.db, "check", down)
    response = api.client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["parts"]["database"]["ok"] is False
    assert str(api.settings.data_dir) not in response.text


def test_metrics_need_an_admin_key(busy: tuple[Api, str]) -> None:
    api, _job_id = busy
    assert_problem(api.client.get("/metrics"), 401)
    assert_problem(api.client.get("/metrics", headers=api.headers(api.key("mallory"))), 403)
    admin = api.client.get("/metrics", headers=api.headers(api.key("ops", admin=True)))
    assert admin.status_code == 200
    assert "reelforge_jobs" in admin.text


def test_admin_keys_come_from_the_command_line(
    tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    from reelforge.cli import main

    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path / "data"))
    assert main(["keys", "create", "ops", "--admin"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"admin": true' in listed and key not in listed


def test_anonymous_health_checks_share_one_result(api: Api) -> None:
    """A flood of anonymous health checks costs the database one check a second."""
    from sqlalchemy import event

    queries: list[str] = []
    event.listen(
        api.service.db.engine, "before_cursor_execute", lambda *args: queries.append(args[2])
    )
    api.client.get("/api/health")
    before = len(queries)
    for _ in range(20):
        assert api.client.get("/api/health").status_code == 200
    assert len(queries) - before <= 10  # a fresh check a second (a few queries), not 20
