"""Webhook targets: the server never calls private networks, pins the address it checked, does
not follow redirects, reports outcomes without network detail, and sends no server internals.

Every packet stays on loopback: non-public targets are refused at validation, or with the
resolver and the connect call replaced by fakes that record what would have happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest_api import Api, assert_problem
from loopback import LoopbackServer, Reply, Request

PRIVATE_TARGETS = (
    "http://127.0.0.1:8000/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook",
    "http://192.168.0.1/hook",
    "http://100.64.0.1/hook",
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata (shared 100.64/10)
    "http://[2002:7f00:1::1]/hook",  # 6to4 carrying 127.0.0.1
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:a9fe:a9fe]/hook",  # IPv4-mapped 169.254.169.254
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 carrying 169.254.169.254
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://localhost:8000/hook",
    "http://admin.localhost/hook",
)


class Receiver:
    """A loopback HTTP server recording POSTs; answers ``code`` (and ``location`` for 3xx)."""

    def __init__(self, code: int = 200, location: str | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        moved = (("Location", location),) if location else ()

        def reply(request: Request) -> Reply:
            self.received.append({"headers": request.headers, "body": request.body})
            self.arrived.set()
            return Reply(code, headers=moved)

        self.server = LoopbackServer(reply)
        self.port = self.server.port
        self.url = f"{self.server.url}/hook"

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kwargs: Any) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


class FakeNetwork:
    """Stands in for the resolver and for connect: no packet leaves the machine."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers  # one list of addresses per lookup, the last one repeats
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []

    def getaddrinfo(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.lookups.append(host)
        addresses = self.answers[min(len(self.lookups), len(self.answers)) - 1]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in addresses
        ]

    def create_connection(self, where: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        self.connects.append(where)
        raise ConnectionRefusedError(111, "Connection refused")


def _submit(api: Api, key: str, webhook_url: str) -> Any:
    body = {"script": "Hello there.", "music": "none", "preview": True, "webhook_url": webhook_url}
    return api.client.post("/api/videos", json=body, headers=api.headers(key))


def _webhook_messages(api: Api, job_id: str, count: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    messages: list[str] = []
    while time.monotonic() < deadline:
        messages = [str(e.message) for e in api.service.events(job_id) if e.stage == "webhook"]
        if len(messages) >= count:
            return messages
        time.sleep(0.02)
    raise AssertionError(f"expected {count} webhook events, saw {messages}")


def test_private_targets_are_refused_at_submit(api: Api) -> None:
    key = api.key("mallory")
    for url in PRIVATE_TARGETS:
        response = _submit(api, key, url)
        assert response.status_code == 422, (url, response.text)
        assert_problem(response, 422)
    assert api.client.get("/api/jobs", headers=api.headers(key)).json()["total"] == 0


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    make_api: Callable[..., Api], fake_make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(webhook_backoff_s=0.01)
    network = FakeNetwork([["93.184.216.34", "169.254.169.254"]])  # one public, one not
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", network.create_connection)
    key = api.key("mallory")
    response = _submit(api, key, "http://metadata.attacker.example/latest")
    assert response.status_code == 202, response.text  # names are judged when delivering
    job_id = response.json()["id"]
    assert api.wait(job_id, key)["status"] == "completed"
    messages = _webhook_messages(api, job_id, 1)
    assert messages == ["webhook job.completed attempt 1: failed (refused target)"]
    assert network.connects == []  # no attempt: nothing was sent anywhere


def test_dns_rebinding_cannot_redirect_the_connection(
    make_api: Callable[..., Api], fake_make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers a public address once, then loopback: each attempt connects to the
    address its own lookup checked, never to the one a second lookup would give."""
    api = make_api(webhook_attempts=3, webhook_backoff_s=0.01, webhook_timeout_s=0.3)
    network = FakeNetwork([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", network.create_connection)
    key = api.key("mallory")
    job_id = _submit(api, key, "http://rebind.attacker.example:8080/x").json()["id"]
    api.wait(job_id, key)
    messages = _webhook_messages(api, job_id, 2)
    assert network.connects == [("93.184.216.34", 8080)]
    assert len(network.lookups) == 2  # one lookup per attempt, none between check and connect
    assert messages[0] == "webhook job.completed attempt 1: failed (could not connect)"
    assert messages[1] == "webhook job.completed attempt 2: failed (refused target)"


def test_the_checked_address_is_used_with_the_name_in_the_host_header(
    make_api: Callable[..., Api],
    fake_make: Any,
    monkeypatch: pytest.MonkeyPatch,
    receivers: Callable[..., Receiver],
) -> None:
    api = make_api(webhook_allow_private=True)  # the loopback receiver is a private target
    receiver = receivers()
    network = FakeNetwork([["127.0.0.1"]])
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    key = api.key("alice")
    url = f"http://hooks.receiver.example:{receiver.port}/hook"
    job_id = _submit(api, key, url).json()["id"]
    api.wait(job_id, key)
    assert receiver.arrived.wait(10)
    assert receiver.received[0]["headers"]["Host"] == f"hooks.receiver.example:{receiver.port}"
    # One lookup of the name; connect's own lookup is of the numeric address it was given.
    assert network.lookups == ["hooks.receiver.example", "127.0.0.1"]
    assert _webhook_messages(api, job_id, 1) == [
        "webhook job.completed attempt 1: delivered (HTTP 200)"
    ]


def test_redirects_are_not_followed(
    make_api: Callable[..., Api], fake_make: Any, receivers: Callable[..., Receiver]
) -> None:
    api = make_api(webhook_allow_private=True, webhook_attempts=1)
    inside = receivers()
    redirector = receivers(code=307, location=inside.url)
    key = api.key("alice")
    job_id = _submit(api, key, redirector.url).json()["id"]
    api.wait(job_id, key)
    assert _webhook_messages(api, job_id, 1) == [
        "webhook job.completed attempt 1: failed (HTTP 307)"
    ]
    assert len(redirector.received) == 1
    assert inside.received == []


def test_outcomes_carry_no_network_detail(make_api: Callable[..., Api], fake_make: Any) -> None:
    """A closed port and a port that accepts but never answers read the same: the events cannot
    be used to scan ports."""
    api = make_api(webhook_allow_private=True, webhook_attempts=1, webhook_timeout_s=0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts, never answers: a timeout
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
    try:
        key = api.key("mallory")
        ports = (silent.getsockname()[1], closed.getsockname()[1])
        jobs = [_submit(api, key, f"http://127.0.0.1:{port}/").json()["id"] for port in ports]
        outcomes = []
        for job_id in jobs:
            api.wait(job_id, key)
            outcomes.append(_webhook_messages(api, job_id, 1)[0])
            # Nor its time: a refusal is recorded no sooner than a timeout would be.
            finished = api.service.get(job_id).finished_at
            recorded = [e.at for e in api.service.events(job_id) if e.stage == "webhook"][0]
            assert (recorded - finished).total_seconds() >= 0.3
            events = api.client.get(f"/api/jobs/{job_id}/events", headers=api.headers(key)).text
            assert "Errno" not in events and "refused" not in events.lower().replace(
                "refused target", ""
            )
            assert "timed out" not in events
    finally:
        silent.close()
        closed.close()
    assert outcomes == ["webhook job.completed attempt 1: failed (could not connect)"] * 2


def test_payload_carries_no_server_internals(
    make_api: Callable[..., Api], fake_make: Any, receivers: Callable[..., Receiver]
) -> None:
    api = make_api(webhook_allow_private=True)
    receiver = receivers()
    key = api.key("alice")
    job_id = _submit(api, key, receiver.url).json()["id"]
    api.wait(job_id, key)
    assert receiver.arrived.wait(10)
    body = receiver.received[0]["body"].decode()
    job = json.loads(body)["job"]
    assert job["id"] == job_id and job["status"] == "completed"
    assert job["links"]["files"]["video"] == f"/api/jobs/{job_id}/files/video"
    assert f'"jobs/{job_id}/' not in body and "video.mp4" not in body  # no storage keys
    assert socket.gethostname() not in body  # no worker names (host and pid)
    assert f"-{os.getpid()}-" not in body
    assert str(api.settings.data_dir) not in body
    assert "owner" not in job and "alice" not in body


def test_https_connects_to_the_checked_address_with_the_name_for_tls(
    make_api: Callable[..., Api],
    fake_make: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """For https the pinned connection still asks TLS for the URL's name (SNI, certificate
    check): a loopback TLS server records the name it was asked for. Its self-signed
    certificate is not trusted, so the delivery fails, as it should."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.receiver.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    asked: list[str | None] = []
    context.sni_callback = lambda _sock, name, _context: asked.append(name)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve_once() -> None:
        connection, _ = listener.accept()
        with contextlib.suppress(OSError):
            context.wrap_socket(connection, server_side=True).close()
        connection.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    api = make_api(webhook_allow_private=True, webhook_attempts=1, webhook_timeout_s=2)
    network = FakeNetwork([["127.0.0.1"]])
    monkeypatch.setattr(socket, "getaddrinfo", network.getaddrinfo)
    api_key = api.key("alice")
    port = listener.getsockname()[1]
    job_id = _submit(api, api_key, f"https://hooks.receiver.example:{port}/hook").json()["id"]
    api.wait(job_id, api_key)
    try:
        assert _webhook_messages(api, job_id, 1) == [
            "webhook job.completed attempt 1: failed (could not connect)"
        ]
        thread.join(10)
        assert asked == ["hooks.receiver.example"]
    finally:
        listener.close()
