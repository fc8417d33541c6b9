"""Server-sent event streams: capped per owner and in all (429 with Retry-After beyond), and
woken by one shared poller, so open streams add no database polling of their own.

A real uvicorn server on 127.0.0.1 (the streams never end, which FastAPI's TestClient cannot
hold open); raw sockets are the clients. Jobs stay queued (no workers) so streams stay open.
"""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest_api import api_settings
from service_support import TINY


@dataclass
class Live:
    port: int
    service: Any
    app: Any
    queries: list[str]

    def key(self, name: str) -> str:
        from reelforge.service.auth import create_api_key

        return create_api_key(self.service.db, name)

    def job(self, owner: str) -> str:
        return str(self.service.submit_video({"storyboard": TINY}, owner=owner).id)

    def count_queries(self, seconds: float) -> int:
        before = len(self.queries)
        time.sleep(seconds)
        return len(self.queries) - before


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Callable[..., Live]]:
    import uvicorn
    from sqlalchemy import event

    from reelforge.service import create_service
    from reelforge.service.api import create_app

    started: list[tuple[uvicorn.Server, threading.Thread, Any]] = []

    def start(**overrides: Any) -> Live:
        settings = api_settings(tmp_path / f"live{len(started)}", workers=0, **overrides)
        service = create_service(settings, start=False, recover=False)
        app = create_app(service, settings)
        queries: list[str] = []
        event.listen(
            service.db.engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_rest: queries.append(statement),
        )
        # IPPROTO_TCP given: asyncio sets TCP_NODELAY only on sockets that say so (else every
        # response waits 40 ms for a delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        started.append((server, thread, service))
        return Live(sock.getsockname()[1], service, app, queries)

    yield start
    for server, thread, _service in started:
        server.should_exit = True
        thread.join(10)


class Stream:
    """A raw HTTP/1.1 client of one event stream."""

    def __init__(self, port: int, key: str, job_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(
            f"GET /api/jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buffer += chunk
        head = self.buffer.split(b"\r\n\r\n", 1)[0].decode()
        self.status = int(head.split(" ", 2)[1])
        self.headers = {
            line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
            for line in head.split("\r\n")[1:]
        }

    def read_until(self, marker: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, "the stream ended early"
            self.buffer += chunk
        return self.buffer

    def close(self) -> None:
        self.sock.close()


def test_streams_are_capped_per_owner_and_in_all(live: Callable[..., Live]) -> None:
    server = live(sse_streams_per_owner=3, sse_streams_total=5)
    alice, bob, carol = server.key("alice"), server.key("bob"), server.key("carol")
    jobs = {name: server.job(name) for name in ("alice", "bob", "carol")}
    streams = [Stream(server.port, alice, jobs["alice"]) for _ in range(3)]
    assert [s.status for s in streams] == [200] * 3
    refused = Stream(server.port, alice, jobs["alice"])
    assert refused.status == 429 and refused.headers["retry-after"] == "10"
    refused.close()
    streams += [Stream(server.port, bob, jobs["bob"]) for _ in range(2)]
    assert [s.status for s in streams[3:]] == [200, 200]
    for key, owner in ((bob, "bob"), (carol, "carol")):  # the server's cap of 5 is reached
        over = Stream(server.port, key, jobs[owner])
        assert over.status == 429
        over.close()
    # A closed stream gives its place back.
    streams.pop(0).close()
    deadline = time.monotonic() + 10
    while True:
        again = Stream(server.port, alice, jobs["alice"])
        if again.status == 200:
            streams.append(again)
            break
        again.close()
        assert time.monotonic() < deadline, "the closed stream's slot never came back"
        time.sleep(0.1)
    for stream in streams:
        stream.close()


def test_open_streams_add_no_database_polling(live: Callable[..., Live]) -> None:
    server = live(sse_poll_s=0.05, sse_streams_per_owner=40, sse_streams_total=40)
    key = server.key("mallory")
    jobs = [server.job("mallory") for _ in range(4)]
    first = Stream(server.port, key, jobs[0])
    assert first.status == 200
    time.sleep(0.5)  # past the streams' first reads
    with_one = server.count_queries(1.0)
    more = [Stream(server.port, key, jobs[n % 4]) for n in range(39)]
    assert all(s.status == 200 for s in more)
    time.sleep(0.5)
    with_forty = server.count_queries(1.0)
    hub = server.app.state.streams
    print(f"\nqueries per second: 1 stream {with_one}, 40 streams {with_forty}")
    assert hub.pollers_started == 1
    assert with_forty <= with_one * 1.5 + 5  # one poller: ~1 query per poll, whatever the count
    # And a job's news still reaches its streams at once.
    server.service.cancel(jobs[1])
    woken = [s for n, s in enumerate(more) if n % 4 == 1]
    for stream in woken:
        assert b"event: end" in stream.read_until(b"event: end", timeout=5)
    for stream in [first, *more]:
        stream.close()


def _latency(port: int, key: str, job_id: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.connect()
    # Requests go out as headers then body; without this, delayed ACKs add 40 ms to each.
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        timings.append(time.perf_counter() - started)
    connection.close()
    return timings


def test_api_latency_with_fifty_open_streams(live: Callable[..., Live]) -> None:
    """The measurement behind the README's figure: GET /api/jobs/{id} with no stream open,
    then with 50 streams (from another owner) open at the default poll interval."""
    server = live(sse_poll_s=0.25, sse_streams_per_owner=50, sse_streams_total=60)
    alice, mallory = server.key("alice"), server.key("mallory")
    own = server.job("alice")
    streams_job = server.job("mallory")
    _latency(server.port, alice, own, 10)  # warm up
    idle = statistics.median(_latency(server.port, alice, own, 60))
    streams = [Stream(server.port, mallory, streams_job) for _ in range(50)]
    assert all(s.status == 200 for s in streams)
    time.sleep(0.5)
    busy = statistics.median(_latency(server.port, alice, own, 60))
    for stream in streams:
        stream.close()
    print(
        f"\nmedian GET /api/jobs/{{id}}: no streams {idle * 1000:.1f} ms, "
        f"50 streams {busy * 1000:.1f} ms"
    )
    assert busy < idle * 3 + 0.02
