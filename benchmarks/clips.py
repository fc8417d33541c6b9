#!/usr/bin/env python3
"""Clips from a long talk: wall time per stage, the whole job against the input's length, and
peak memory.

The input is made here: a ``--minutes`` long (default 10) 1920x1080 talking-head video, the
face photo of scikit-image drifting slowly over a plain background, narrated by the
project's Piper voice (about thirty sentences on four topics, spoken once and looped to the
length: the talk repeats itself, which the moment finder does not mind). Making it is not
timed. Then ``reelforge.extract_clips`` runs (in this process) with the library's defaults
(five 20-60 s 9:16 clips at 720x1280, Whisper base unless ``--model``), and the script
prints the seconds of each stage (transcribing, finding moments, tracking faces, rendering),
the whole job as a multiple of the input's duration, and peak resident memory of this
process and of its largest child (ffmpeg).

Goal (issue 11): five clips from 10 minutes in under 0.5x the input's duration, under 2 GiB.

    python benchmarks/clips.py [--minutes 10] [--model tiny.en] [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

TOPICS = [
    "Why do most startups get pricing wrong? Because founders are afraid to charge what the "
    "product is worth. Pricing is a signal of value to your customers. If you charge too "
    "little, buyers assume the product is cheap. Raise your prices and watch who stays.",
    "Now let me talk about hiring. Hiring your first engineer takes months of searching. "
    "You should look for people who love the problem, not the perks. The best engineers ask "
    "hard questions in the interview. Hire slowly, and part ways quickly when it is wrong.",
    "What about fundraising? Most investors say no, and that is normal. The secret is to "
    "talk to fifty investors in two weeks. Momentum makes people decide. A warm introduction "
    "is worth ten cold emails.",
    "Finally, let us talk about burnout. Founders work too many hours and sleep too little. "
    "You cannot build a company if you are exhausted. Take one full day off every week. Your "
    "decisions will be better, and your team will copy you.",
]


def make_talk(folder: Path, minutes: float) -> Path:
    """The benchmark's input video (cached in ``folder``)."""
    from PIL import Image
    from skimage import data

    from reelforge.engines import registry
    from reelforge.engines.base import SpeechRequest
    from reelforge.media.ffmpeg import run_ffmpeg

    video = folder / f"talk-{minutes:g}min.mp4"
    if video.exists():
        return video
    voice = registry.get("voice", "piper")
    pieces = []
    rate = 22050
    for paragraph in TOPICS:
        made = voice.synthesize(SpeechRequest(paragraph, "en"), folder)
        with wave.open(str(made.audio), "rb") as reader:
            rate = reader.getframerate()
            pieces.append(reader.readframes(reader.getnframes()))
            pieces.append(b"\0\0" * int(rate * 0.8))
    narration = folder / "narration.wav"
    with wave.open(str(narration), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(pieces))
    face = folder / "face.png"
    Image.fromarray(data.astronaut()).resize((1000, 1000)).save(face)
    seconds = minutes * 60
    graph = (
        "color=c=0x1e283c:s=1920x1080:r=25[bg];[1:v]scale=1000:1000[face];"
        "[bg][face]overlay=x='820+20*sin(t/3)':y=80:shortest=0[v]"
    )
    run_ffmpeg([
        "-y", "-stream_loop", "-1", "-i", str(narration), "-loop", "1", "-i", str(face),
        "-filter_complex", graph, "-map", "[v]", "-map", "0:a", "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-g", "50",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(video),
    ])  # fmt: skip
    return video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="input length (default 10)")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--model", default="", help="Whisper model (default: the library's)")
    parser.add_argument("--keep", type=Path, help="keep the input and clips in this folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)

    import reelforge

    work = args.keep or Path(tempfile.mkdtemp(prefix="reelforge-bench-clips-"))
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    video = make_talk(work, args.minutes)
    made_s = time.perf_counter() - began
    duration_s = reelforge.probe_media(video).duration_ms / 1000

    # The job runs in a child process, so its peak memory and CPU time are its own (not the
    # voice and encoder that made the input).
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--job", str(video), str(work / "clips"),
         str(args.count), args.model],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    job = json.loads(child.stdout.strip().splitlines()[-1])
    report = {
        "input_s": round(duration_s, 1),
        "input": "1920x1080 25 fps H.264, Piper narration looped",
        **job,
        "x_input": round(job["wall_s"] / duration_s, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "making_input_s": round(made_s, 1),
        "model": args.model or "default",
    }
    for line in job["titles"]:
        print(line)
    print(
        f"{report['clips']} clips from {duration_s / 60:.1f} min in {job['wall_s']:.0f} s "
        f"({report['x_input']}x the input), peak {job['peak_rss_mib']} MiB "
        f"(largest child {job['peak_child_rss_mib']} MiB); stages {job['stages_s']}"
    )
    if args.json:
        print(json.dumps(report))
    return 0


def run_job(video: Path, output: Path, count: int, model: str) -> None:
    """The measured job (a child process): prints one JSON line."""
    import reelforge

    stages: dict[str, float] = {}
    marks: dict[str, object] = {"stage": "", "at": time.perf_counter()}

    def progress(stage: str, fraction: float) -> None:
        name = "rendering" if stage.startswith("rendering") else stage
        if name != marks["stage"]:
            now = time.perf_counter()
            if marks["stage"]:
                key = str(marks["stage"])
                stages[key] = stages.get(key, 0.0) + now - float(marks["at"])  # type: ignore[arg-type]
            marks["stage"], marks["at"] = name, now

    began = time.perf_counter()
    result = reelforge.extract_clips(video, output, count=count, model=model, progress=progress)
    wall = time.perf_counter() - began
    if marks["stage"]:
        key = str(marks["stage"])
        stages[key] = stages.get(key, 0.0) + time.perf_counter() - float(marks["at"])  # type: ignore[arg-type]
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "clips": len(result.clips),
        "clip_seconds": [round((c.end_ms - c.start_ms) / 1000, 1) for c in result.clips],
        "wall_s": round(wall, 1),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "peak_rss_mib": round(own.ru_maxrss / 1024, 1),
        # a child's peak counts the parent's pages at fork (Linux), so this is an upper bound
        "peak_child_rss_mib": round(children.ru_maxrss / 1024, 1),
        "cpu_s": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 1),
        "titles": [f"{c.rank}. {c.moment.title} ({c.moment.score})" for c in result.clips],
    }))  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--job":
        run_job(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        sys.exit(0)
    sys.exit(main())
