"""Webhooks: signed POSTs received by a local HTTP server, retries, and signature checks."""

from __future__ import annotations

import json
import threading
import time

import pytest
from loopback import LoopbackServer, Reply, Request
from service_support import TINY

from reelforge.service.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)
from reelforge.service.worker import run_job

SECRET = "s3cret-for-tests"


class Receiver:
    """A loopback HTTP server that records webhook deliveries and answers with ``codes``."""

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = list(codes or [])
        self.received: list[dict] = []
        self.arrived = threading.Event()
        self.server = LoopbackServer(self._reply)
        self.url = self.server.url + "/hook"

    def _reply(self, request: Request) -> Reply:
        code = self.codes.pop(0) if self.codes else 200
        self.received.append({"headers": request.headers, "body": request.body, "answered": code})
        if code == 200:
            self.arrived.set()
        return Reply(code)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _loopback_receivers(service):
    """These tests deliver to a loopback server: private targets are allowed explicitly (the
    default refuses them; see tests/security/test_webhooks_ssrf.py)."""
    service.settings.webhook_allow_private = True


def _wait_events(service, job_id: str, count: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = [e.message for e in service.events(job_id) if e.stage == "webhook"]
        if len(messages) >= count:
            return messages
        time.sleep(0.02)
    raise AssertionError(f"expected {count} webhook attempts, saw {messages}")


def test_completion_webhook_is_signed_and_verifiable(service, fake_make, receiver):
    service.settings.webhook_secret = SECRET
    job = service.submit_video({"storyboard": TINY}, webhook_url=receiver.url)
    assert run_job(job.id, service.db, service.storage, service.settings, "w") == "completed"
    assert receiver.arrived.wait(10)
    delivery = receiver.received[0]
    headers, body = delivery["headers"], delivery["body"]
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature("wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["event"] == "job.completed"
    assert payload["job"]["id"] == job.id and payload["job"]["status"] == "completed"
    assert payload["job"]["links"]["files"]["video"] == f"/api/jobs/{job.id}/files/video"
    assert "webhook_url" not in payload["job"] and "owner" not in payload["job"]
    assert "result" not in payload["job"] and "history" not in payload["job"]
    messages = _wait_events(service, job.id, 1)
    assert "HTTP 200" in messages[0]


def test_failure_webhook_retries_until_delivered(service, fake_make):
    receiver = Receiver(codes=[500, 503])
    try:
        service.settings.max_attempts = 1

        def broken(board):
            raise RuntimeError("nope")

        fake_make.before = broken
        job = service.submit_video({"storyboard": TINY}, webhook_url=receiver.url)
        assert run_job(job.id, service.db, service.storage, service.settings, "w") == "failed"
        assert receiver.arrived.wait(10)
        assert [d["answered"] for d in receiver.received] == [500, 503, 200]
        assert json.loads(receiver.received[-1]["body"])["event"] == "job.failed"
        messages = _wait_events(service, job.id, 3)
        assert "HTTP 500" in messages[0] and "attempt 1" in messages[0]
        assert "HTTP 503" in messages[1] and "attempt 2" in messages[1]
        assert "HTTP 200" in messages[2] and "attempt 3" in messages[2]
    finally:
        receiver.close()


def test_unreachable_receiver_gives_up_without_blocking_the_worker(service, fake_make):
    service.settings.webhook_attempts = 2
    service.settings.webhook_timeout_s = 0.3  # a failed attempt is recorded after the timeout
    job = service.submit_video({"storyboard": TINY}, webhook_url="http://127.0.0.1:9/nothing")
    started = time.monotonic()
    assert run_job(job.id, service.db, service.storage, service.settings, "w") == "completed"
    assert time.monotonic() - started < 2  # delivery happens off the worker's thread
    messages = _wait_events(service, job.id, 2)
    assert all("attempt" in m and "HTTP 200" not in m for m in messages)


def test_cancelled_jobs_send_nothing(service, receiver):
    job = service.submit_video({"storyboard": TINY}, webhook_url=receiver.url)
    service.cancel(job.id)
    time.sleep(0.2)
    assert receiver.received == []


def test_signature_rules():
    body = b'{"event":"job.completed"}'
    now = str(int(time.time()))
    signature = sign(SECRET, now, body)
    assert verify_signature(SECRET, now, body, signature)
    assert not verify_signature(SECRET, now, body + b" ", signature)  # tampered body
    old = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, old, body, sign(SECRET, old, body))  # replayed
    assert not verify_signature(SECRET, "not-a-time", body, signature)
    assert sign(SECRET, now, body) != sign(SECRET, str(int(now) + 1), body)


def test_private_targets_are_refused_when_configured(service, receiver):
    from reelforge.errors import SpecError

    service.settings.webhook_allow_private = False
    for url in (receiver.url, "http://169.254.169.254/latest/meta-data", "http://[::1]:80/x"):
        with pytest.raises(SpecError, match="private"):
            service.submit_video({"storyboard": TINY}, webhook_url=url)
    assert service.list()[1] == 0
