#!/usr/bin/env python3
"""Compositor CPU time per frame for the main benchmark's timeline: procedural vs illustrated.

Plans ``benchmarks/script60.md`` (make60's script, no user pictures) at 1080x1920 twice, with
``visual_engine: procedural`` and with the default ``illustrated`` engine, using the tests'
fake voice (its timing stands in for the narration: the pictures are what is measured), then
renders ``--frames`` frames of every clip (from 1 s in, after the entrances) with the
compositor in one thread and reports CPU seconds per frame (``time.process_time``: on a shared,
loaded machine CPU time compares, wall time does not).

    PYTHONPATH=. .venv/bin/python benchmarks/sprites.py [--frames 24] [--format 9:16] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from fakes import fake_voice_registered  # noqa: E402

import reelforge  # noqa: E402
from reelforge.plan import plan  # noqa: E402
from reelforge.render.compositor import Compositor  # noqa: E402


def per_frame_cpu(board: reelforge.Storyboard, work: Path, frames: int) -> tuple[float, int]:
    """(CPU seconds per frame, sprites drawn) for ``frames`` frames of each clip."""
    timeline = plan(board, work, cache_dir=work / "cache").timeline
    sprites = sum(1 for clip in timeline.clips for layer in clip.layers if layer.sprite)
    compositor = Compositor(timeline)
    spent, count = 0.0, 0
    for clip in timeline.clips:
        first = clip.start + min(clip.frames - frames, timeline.fps)
        compositor.frame_i420(first)  # the clip's pictures load and scale once: not per frame
        started = time.process_time()
        for number in range(first + 1, first + 1 + frames):
            compositor.frame_i420(number)
        spent += time.process_time() - started
        count += frames
    compositor.close()
    return spent / count, sprites


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=HERE / "script60.md")
    parser.add_argument("--format", default="9:16", choices=["9:16", "16:9", "1:1"])
    parser.add_argument("--frames", type=int, default=24, help="frames measured per clip")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    board = reelforge.load_spec(args.script)
    board = board.model_copy(
        update={
            "voice": "fake-adult-male",
            "format": args.format,
            "resolution": 1080,
            "music": board.music.model_copy(update={"enabled": False}),
        }
    )
    results = {}
    with fake_voice_registered(), tempfile.TemporaryDirectory() as tmp:
        for engine in ("procedural", "illustrated"):
            chosen = board.model_copy(update={"visual_engine": engine})
            seconds, sprites = per_frame_cpu(chosen, Path(tmp) / engine, args.frames)
            results[engine] = {"cpu_ms_per_frame": round(seconds * 1000, 2), "sprites": sprites}
            print(f"{engine:<12} {seconds * 1000:6.1f} ms CPU per frame ({sprites} sprites)")
    ratio = results["illustrated"]["cpu_ms_per_frame"] / results["procedural"]["cpu_ms_per_frame"]
    print(f"illustrated / procedural: {ratio:.2f}x")
    if args.json:
        print(json.dumps({**results, "ratio": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
