"""Run a command and measure it: wall time, CPU time of the whole process tree, peak memory.

Peak memory is the largest sum of resident memory over the process and all its descendants,
sampled from /proc every 50 ms (a Python process and its ffmpeg children count together). A
child that has forked but not yet run its program (``PF_FORKNOEXEC``: Python's subprocess
between vfork and exec) is left out: it shares its parent's pages, which would otherwise count
twice (a Python process of 770 MB starting espeak-ng or ffmpeg read as 1.5 GB). Reelforge
starts no forked workers that never exec.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
FORKED_NOT_EXECUTED = 0x40  # PF_FORKNOEXEC in /proc/PID/stat's flags


@dataclass(frozen=True)
class Measured:
    name: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    returncode: int
    stderr_tail: str = ""


def _children() -> dict[int, list[int]]:
    """Parent pid -> its children's pids, leaving out children that forked but did not exec."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[6]) & FORKED_NOT_EXECUTED:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _tree_rss(root: int) -> int:
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            resident = 0
        total += resident * PAGE
        todo.extend(tree.get(pid, []))
    return total


def run(
    name: str, argv: list[str], env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> Measured:
    """Run ``argv`` to completion and measure it (CPU time covers every descendant)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
        errors="replace",
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(name, wall, cpu, peak / 2**20, process.returncode, stderr[-2000:])


def probe_duration(path: Path) -> tuple[float, int]:
    """(duration in seconds, number of video frames) of an MP4, by ffprobe."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets:format=duration",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[-1]), int(out[0])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
