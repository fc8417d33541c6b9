"""Renders that would hold a worker forever, attacked through the HTTP API.

Before: ``DELETE /api/jobs/{id}`` answered 204 while ffmpeg kept running, a job stuck inside
ffmpeg (libass eating memory) blocked the only worker until it finished, and nothing limited an
ffmpeg's memory. Now every ffmpeg/ffprobe starts in its own process group under the job's
:class:`~reelforge.media.ffmpeg.Cancellation`: a delete or a timeout kills the group within about
a second, whatever ffmpeg is doing, and a render over its memory limit fails at once with a
clear error that is not retried.

The long-running ffmpeg here is real (``-re`` reads a lavfi source in real time, so it runs a
minute on almost no CPU) and started through the media layer from inside the fake renderer, the
way the real renderer starts its encoder.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest_api import Api

from reelforge.errors import RenderCancelled, ResourceLimitExceeded
from reelforge.media.ffmpeg import Cancellation, run_ffmpeg, run_ffprobe

TINY = {"storyboard": {"scenes": ["Hello there."], "music": "none"}, "preview": True}


def _processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # it exited while we looked
    return found


def _wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def _minute_of_ffmpeg(marker: str) -> list[str]:
    """ffmpeg args that run for a minute on almost no CPU; ``marker`` names the output."""
    source = "testsrc2=s=320x180:r=10:d=60"
    return ["-re", "-f", "lavfi", "-i", source, "-f", "null", f"/nonexistent/{marker}"]


def _long_ffmpeg_inside_the_render(fake_make: Any) -> tuple[str, list[BaseException]]:
    """Make the fake renderer run a long ffmpeg once; returns its marker and what it raised."""
    marker = f"rf-limits-{uuid.uuid4().hex}"
    raised: list[BaseException] = []

    def before(board: Any) -> None:
        if raised or _processes_with(marker):
            return
        try:
            run_ffmpeg(_minute_of_ffmpeg(marker))
        except BaseException as exc:
            raised.append(exc)
            raise

    fake_make.before = before
    return marker, raised


def test_delete_during_a_render_kills_ffmpeg_at_once(
    make_api: Callable[..., Api], fake_make: Any
) -> None:
    api = make_api()
    key = api.key()
    marker, raised = _long_ffmpeg_inside_the_render(fake_make)
    job_id = api.submit(key, TINY)
    _wait_until(lambda: bool(_processes_with(marker)), timeout=20)

    response = api.client.delete(f"/api/jobs/{job_id}", headers=api.headers(key))
    assert response.status_code == 204
    took = _wait_until(lambda: not _processes_with(marker), timeout=10)
    assert took < 2.5, f"ffmpeg still ran {took:.1f} s after the DELETE"
    _wait_until(lambda: bool(raised), timeout=5)
    assert isinstance(raised[0], RenderCancelled)
    gone = api.client.get(f"/api/jobs/{job_id}", headers=api.headers(key))
    assert gone.status_code == 404


def test_a_timed_out_render_is_killed_and_not_retried(
    make_api: Callable[..., Api], fake_make: Any
) -> None:
    api = make_api(timeouts={"video": 1.5}, max_attempts=3)
    key = api.key()
    marker, _ = _long_ffmpeg_inside_the_render(fake_make)
    started = time.monotonic()
    job_id = api.submit(key, TINY)
    _wait_until(lambda: bool(_processes_with(marker)), timeout=20)

    _wait_until(lambda: not _processes_with(marker), timeout=10)
    assert time.monotonic() - started < 1.5 + 3.0, "ffmpeg outlived the job's time limit"
    job = api.wait(job_id, key, timeout=10)
    assert job["status"] == "failed"
    assert "longer than its limit of 1.5 s" in job["error"]
    assert job["attempts"] == 1, "a render over its time limit must not be retried"


def test_a_render_over_its_memory_limit_fails_clearly_and_is_not_retried(
    make_api: Callable[..., Api], fake_make: Any, tmp_path: Path
) -> None:
    # 64 MiB: too little for ffmpeg to even map its libraries; a real attack (libass growing
    # without end) reaches the default 4 GiB the same way, only later.
    api = make_api(ffmpeg_memory_bytes=64 * 1024 * 1024, max_attempts=3)
    key = api.key()
    output = tmp_path / "tiny.mp4"

    def encode(board: Any) -> None:
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x180:d=1", str(output)])

    fake_make.before = encode
    job = api.wait(api.submit(key, TINY), key, timeout=30)
    assert job["status"] == "failed"
    assert "went over its memory limit of 64 MiB" in job["error"]
    assert "memory" in job["hint"]
    assert job["attempts"] == 1, "a render over its memory limit must not be retried"


# --- the mechanism itself, without the service ---------------------------------------------


def test_cancel_from_another_thread_kills_the_process_group() -> None:
    marker = f"rf-limits-{uuid.uuid4().hex}"
    control = Cancellation()
    raised: list[BaseException] = []

    def render() -> None:
        with control:
            try:
                run_ffmpeg(_minute_of_ffmpeg(marker))
            except BaseException as exc:
                raised.append(exc)

    thread = threading.Thread(target=render)
    thread.start()
    _wait_until(lambda: bool(_processes_with(marker)), timeout=20)
    control.cancel()
    assert _wait_until(lambda: not _processes_with(marker), timeout=5) < 1.0
    thread.join(timeout=10)
    assert len(raised) == 1 and isinstance(raised[0], RenderCancelled)
    with control, pytest.raises(RenderCancelled):  # nothing starts after a cancel
        run_ffprobe(["-version"])


def test_wall_clock_limit_stops_a_render() -> None:
    marker = f"rf-limits-{uuid.uuid4().hex}"
    started = time.monotonic()
    with Cancellation(wall_seconds=0.5), pytest.raises(ResourceLimitExceeded, match="0.5 s"):
        run_ffmpeg(_minute_of_ffmpeg(marker))
    assert time.monotonic() - started < 3.0
    assert not _processes_with(marker)


def test_memory_limit_applies_to_ffprobe_and_is_named() -> None:
    with Cancellation(memory_bytes=32 * 1024 * 1024), pytest.raises(ResourceLimitExceeded):
        run_ffprobe(["-version"])
    run_ffprobe(["-version"])  # outside a limited render, the same call runs
