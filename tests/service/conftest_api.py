"""Fixtures for the API tests: an app over a temporary SQLite database, a temporary local store
and an in-process executor, driven by FastAPI's TestClient (the app's lifespan runs).

Import what a test module needs: ``from conftest_api import api, Api  # noqa: F401``. The
renderer is replaced by the core's ``fake_make`` (tests/service/conftest.py) unless a test
renders for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from reelforge.service.api.settings import ApiSettings  # noqa: E402

FINAL = ("completed", "failed", "cancelled")


def api_settings(tmp_path: Path, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "workers": 1,
        "lease_seconds": 10,
        "poll_seconds": 0.05,
        "progress_interval_s": 0.0,
        "retry_backoff_s": 0.0,
        "max_attempts": 1,
        "sse_poll_s": 0.05,
        "rate_per_minute": 0,  # unlimited unless a test sets it
        "upload_max_bytes": 256 * 1024,
    }
    values.update(overrides)
    return ApiSettings(**values)


class Api:
    """A running app plus helpers: keys, submitting, waiting."""

    def __init__(self, client: TestClient, service: Any, settings: ApiSettings) -> None:
        self.client = client
        self.service = service
        self.settings = settings

    def key(self, name: str = "alice", **limits: Any) -> str:
        from reelforge.service.auth import create_api_key

        return create_api_key(self.service.db, name, **limits)

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def submit(self, key: str | None, body: dict[str, Any] | None = None) -> str:
        body = body or {"script": "Hello there. This is a test.", "music": "none", "preview": True}
        response = self.client.post(
            "/api/videos", json=body, headers=self.headers(key) if key else {}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def wait(self, job_id: str, key: str | None, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(
                f"/api/jobs/{job_id}", headers=self.headers(key) if key else {}
            )
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in FINAL:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(0.05)


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """``make_api(**settings)`` -> a started :class:`Api`; stopped at the end of the test."""
    from reelforge.service import create_service
    from reelforge.service.api import create_app

    stack: list[TestClient] = []

    def build(**overrides: Any) -> Api:
        settings = api_settings(tmp_path / f"api{len(stack)}", **overrides)
        service = create_service(settings, start=False, recover=False)
        client = TestClient(create_app(service, settings), raise_server_exceptions=False)
        client.__enter__()
        stack.append(client)
        return Api(client, service, settings)

    yield build
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., Api], fake_make: Any) -> Api:
    """An app needing API keys, with the quick fake renderer."""
    return make_api()


@pytest.fixture
def open_api(make_api: Callable[..., Api], fake_make: Any) -> Api:
    """An app in open mode (no keys), with the quick fake renderer."""
    return make_api(open_mode=True)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """``response`` is an RFC 7807 problem with ``status``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:reelforge:problem:")
    assert body["title"] and body["detail"]
    assert "hint" in body
    return body
