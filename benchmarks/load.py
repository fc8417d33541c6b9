#!/usr/bin/env python3
"""Load test of the local server: N concurrent clients submitting short preview jobs.

Starts ``reelforge``'s API in a subprocess (uvicorn on a free loopback port, a temporary data
folder, open mode, no rate limit or quota), then runs ``--clients`` threads that share
``--jobs`` submissions: each client submits a short preview job (``POST /api/videos``) and polls
``GET /api/jobs/{id}`` until it is final, then takes the next one. Reports:

- jobs/minute: completed jobs over the time from the first submission to the last completion;
- p50/p95/max API latency under that load, for submissions and for polls;
- lost jobs: every submitted id must reach ``completed`` (and ``GET /api/jobs`` must list
  exactly the submitted ids); any other end, or none before ``--timeout``, is reported.

Every job has its own script (``--repeat-inputs`` reuses four, so the service answers most
from its output cache). ``--renderer real`` (default) renders every job for real in preview;
``--renderer fake`` swaps the renderer for one that writes tiny files at once, to measure the
API, the database and the queue alone. ``--json`` prints one JSON object as the last line.

    python benchmarks/load.py [--clients 8] [--jobs 16] [--workers 2] [--renderer real|fake]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FINAL = ("completed", "failed", "cancelled")
SCRIPTS = (
    "Hello there. This is a test.",
    "Fresh bread every morning. Come and taste it.",
    "Our new app saves you time. Try it today.",
    "The sea is calm tonight. The tide is full.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--jobs", type=int, default=None, help="jobs submitted in all (default: 2 per client)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="the server's in-process job workers (default 2)"
    )
    parser.add_argument("--renderer", choices=("real", "fake"), default="real")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between polls")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for all jobs (default 900)"
    )
    parser.add_argument(
        "--repeat-inputs",
        action="store_true",
        help="reuse 4 scripts, so most jobs are answered from the output cache",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        return _serve(args.serve, args.renderer)
    jobs = args.jobs if args.jobs is not None else 2 * args.clients
    if args.clients < 1 or jobs < 1:
        parser.error("--clients and --jobs must be at least 1")
    report = run_load(
        args.clients,
        jobs,
        args.workers,
        args.renderer,
        args.poll,
        args.timeout,
        unique=not args.repeat_inputs,
    )
    _print(report)
    if args.json:
        print(json.dumps(report))
    return 0 if report["lost"] == 0 and report["failed"] == 0 else 1


# --------------------------------------------------------------------------- the server


def _serve(port: int, renderer: str) -> int:
    """The subprocess: the API from the environment's REELFORGE_* settings, on ``port``."""
    import uvicorn

    if renderer == "fake":
        import reelforge.pipeline

        reelforge.pipeline.make = _fake_make  # type: ignore[assignment]
    from reelforge.service.api.app import create_app

    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")
    return 0


def _fake_make(storyboard: Any, output: Any, **kwargs: Any) -> Any:
    """Stands in for reelforge.pipeline.make: tiny output files, progress reported."""
    from reelforge.pipeline import MakeResult

    out = Path(output)
    progress = kwargs.get("progress")
    for stage in ("plan", "render"):
        if progress:
            progress(stage, 1.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\0" * 1024)
    captions = {}
    for ext in ("srt", "vtt", "ass", "words.json"):
        path = out.with_suffix("." + ext)
        path.write_text(storyboard.scenes[0].narration, encoding="utf-8")
        captions[ext] = path
    thumbnail = out.with_suffix(".jpg")
    thumbnail.write_bytes(b"\xff\xd8\xff\xe0")
    manifest = out.with_suffix(".json")
    manifest.write_text(json.dumps({"video": out.name}), encoding="utf-8")
    return MakeResult(out, captions, thumbnail, manifest, None, {})  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The API in a subprocess with its own temporary data folder."""

    def __init__(self, workers: int, renderer: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="reelforge-load-")
        env = {
            **os.environ,
            "REELFORGE_DATA_DIR": self.tmp.name,
            "REELFORGE_OPEN_MODE": "true",
            "REELFORGE_WORKERS": str(workers),
            "REELFORGE_RATE_PER_MINUTE": "0",
            "REELFORGE_JOBS_PER_DAY": "0",
            "REELFORGE_MAX_ATTEMPTS": "1",
        }
        self.log = open(Path(self.tmp.name) / "server.log", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve",
                str(self.port),
                "--renderer",
                renderer,
            ],
            env=env,
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, client: Any, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited:\n" + self.output())
            try:
                if client.get(f"{self.base}/api/health", timeout=5).status_code == 200:
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready in {timeout:.0f} s:\n" + self.output())

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        self.tmp.cleanup()


# --------------------------------------------------------------------------- the clients


class Tally:
    """What the clients saw, shared between their threads."""

    def __init__(self, jobs: int) -> None:
        self.lock = threading.Lock()
        self.left = jobs
        self.submit_s: list[float] = []
        self.poll_s: list[float] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.ends: dict[str, tuple[str, float]] = {}  # id -> (final status, when)
        self.first_submit: float | None = None
        self.cached = 0  # jobs answered from the output cache (same input as an earlier job)

    def take(self) -> int | None:
        with self.lock:
            if self.left <= 0:
                return None
            self.left -= 1
            return self.left


def _client(base: str, tally: Tally, poll: float, deadline: float, unique: bool) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as http:
        while (number := tally.take()) is not None:
            script = SCRIPTS[number % len(SCRIPTS)]
            if unique:  # a different input every job: no job is served from the output cache
                script += f" Take {number + 1}."
            body = {"script": script, "music": "none", "preview": True}
            started = time.perf_counter()
            try:
                response = http.post("/api/videos", json=body)
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.errors.append(f"submit: {type(exc).__name__}: {exc}")
                continue
            took = time.perf_counter() - started
            with tally.lock:
                tally.submit_s.append(took)
                if tally.first_submit is None:
                    tally.first_submit = time.monotonic() - took
            if response.status_code != 202:
                with tally.lock:
                    tally.errors.append(f"submit: {response.status_code} {response.text[:200]}")
                continue
            job_id = response.json()["id"]
            with tally.lock:
                tally.ids.append(job_id)
            while time.monotonic() < deadline:
                time.sleep(poll)
                started = time.perf_counter()
                try:
                    response = http.get(f"/api/jobs/{job_id}")
                except httpx.HTTPError as exc:
                    with tally.lock:
                        tally.errors.append(f"poll: {type(exc).__name__}: {exc}")
                    continue
                with tally.lock:
                    tally.poll_s.append(time.perf_counter() - started)
                if response.status_code != 200:
                    with tally.lock:
                        tally.errors.append(f"poll: {response.status_code} {response.text[:200]}")
                    continue
                job = response.json()
                if job["status"] in FINAL:
                    with tally.lock:
                        tally.ends[job_id] = (job["status"], time.monotonic())
                        if job.get("cached_from"):
                            tally.cached += 1
                    break


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def run_load(
    clients: int,
    jobs: int,
    workers: int,
    renderer: str,
    poll: float,
    timeout: float,
    unique: bool = True,
) -> dict[str, Any]:
    import httpx

    server = Server(workers, renderer)
    try:
        with httpx.Client(timeout=10) as probe:
            server.wait_ready(probe)
        tally = Tally(jobs)
        deadline = time.monotonic() + timeout
        threads = [
            threading.Thread(
                target=_client,
                args=(server.base, tally, poll, deadline, unique),
                name=f"client-{i}",
            )
            for i in range(clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        with httpx.Client(base_url=server.base, timeout=30) as http:
            listed = http.get("/api/jobs", params={"limit": 200}).json()
            server_ids = {j["id"] for j in listed["items"]}
            metrics = http.get("/metrics").text
    finally:
        server.stop()

    completed = [i for i, (s, _) in tally.ends.items() if s == "completed"]
    failed = [i for i, (s, _) in tally.ends.items() if s != "completed"]
    lost = [i for i in tally.ids if i not in tally.ends]
    span = None
    if completed and tally.first_submit is not None:
        span = max(tally.ends[i][1] for i in completed) - tally.first_submit
    all_calls = tally.submit_s + tally.poll_s
    return {
        "clients": clients,
        "jobs": jobs,
        "workers": workers,
        "renderer": renderer,
        "submitted": len(tally.ids),
        "completed": len(completed),
        "failed": len(failed),
        "lost": len(lost) + (jobs - len(tally.ids)),
        "from_cache": tally.cached,
        "unique_inputs": unique,
        "server_listed_all": server_ids == set(tally.ids) and listed["total"] == len(tally.ids),
        "wall_s": round(wall, 2),
        "jobs_per_minute": round(len(completed) / span * 60, 2) if span else 0.0,
        "latency_ms": {
            "all": {
                "p50": _ms(_percentile(all_calls, 50)),
                "p95": _ms(_percentile(all_calls, 95)),
                "max": _ms(max(all_calls) if all_calls else None),
                "n": len(all_calls),
            },
            "submit": {
                "p50": _ms(_percentile(tally.submit_s, 50)),
                "p95": _ms(_percentile(tally.submit_s, 95)),
                "n": len(tally.submit_s),
            },
            "poll": {
                "p50": _ms(_percentile(tally.poll_s, 50)),
                "p95": _ms(_percentile(tally.poll_s, 95)),
                "n": len(tally.poll_s),
            },
        },
        "errors": tally.errors[:20],
        "metrics_completed": _metric(metrics, 'reelforge_jobs{status="completed"}'),
        "cpus": os.cpu_count(),
    }


def _metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def _print(r: dict[str, Any]) -> None:
    lat = r["latency_ms"]
    print(
        f"load: {r['clients']} clients, {r['jobs']} preview jobs, {r['workers']} job workers, "
        f"{r['renderer']} renderer, {r['cpus']} CPUs"
    )
    print(
        f"  completed {r['completed']}/{r['jobs']} in {r['wall_s']} s: "
        f"{r['jobs_per_minute']} jobs/minute"
    )
    print(
        f"  API latency under load: p50 {lat['all']['p50']} ms, p95 {lat['all']['p95']} ms, "
        f"max {lat['all']['max']} ms over {lat['all']['n']} calls "
        f"(submit p50 {lat['submit']['p50']} / p95 {lat['submit']['p95']} ms; "
        f"poll p50 {lat['poll']['p50']} / p95 {lat['poll']['p95']} ms)"
    )
    verdict = "no job lost" if r["lost"] == 0 and r["server_listed_all"] else "JOBS LOST"
    print(
        f"  {verdict}: submitted {r['submitted']}, completed {r['completed']}, "
        f"failed {r['failed']}, lost {r['lost']}, server lists every id: "
        f"{r['server_listed_all']}; {r['from_cache']} answered from the output cache"
    )
    for error in r["errors"]:
        print(f"  error: {error}")


if __name__ == "__main__":
    sys.exit(main())
