"""``reelforge serve`` for real: a uvicorn server in a subprocess, stopped and started again
over the same data folder, loses no queued job."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REELFORGE_DATA_DIR": str(data), "REELFORGE_WORKERS": "0"}
    code = "import sys; from reelforge.cli import main; sys.exit(main())"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_ready(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not come up")


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_open_mode_and_a_restart_keeps_queued_jobs(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(tmp_path / "data", port, "--open")
    try:
        _wait_ready(server, base)
        accepted = httpx.post(
            f"{base}/api/videos",
            timeout=30,
            json={"script": "Hello there.", "music": "none", "preview": True},
        )
        assert accepted.status_code == 202, accepted.text
        job_id: Any = accepted.json()["id"]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "reelforge"
    finally:
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert _stop(server) in (0, -signal.SIGTERM)
    # Without --open the same data folder needs a key.
    keyed = _start(tmp_path / "data", port)
    try:
        _wait_ready(keyed, base)
        assert httpx.get(f"{base}/api/jobs/{job_id}").status_code == 401
    finally:
        _stop(keyed)
    again = _start(tmp_path / "data", port, "--open")
    try:
        _wait_ready(again, base)
        job = httpx.get(f"{base}/api/jobs/{job_id}").json()
        assert job["status"] == "queued"  # nobody ran it (no workers), and nothing lost it
    finally:
        _stop(again)
