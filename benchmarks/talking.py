#!/usr/bin/env python3
"""Talking characters and podcasts end to end, as a user runs them.

1. ``reelforge talk --character maya`` on a ~60 s script at 1080x1920 (9:16): Maya's voice is
   en-adult-female, Kokoro (Piper has no female English voice here);
2. the same with ``--character leo``: en-adult-male, Piper (the English default voice);
3. ``reelforge podcast --layout split`` on a ~60 s two-person dialogue at 1920x1080 (16:9):
   host Kokoro, guest Piper;
4. optionally (``--photo``) ``reelforge talk photo.png`` with scikit-image's astronaut.

Each runs in a fresh process (voices synthesised for real) and reports wall time, CPU time
(also per second of video: what a loaded, shared machine does not change), peak memory (the
process tree), the video's length and the speed as a multiple of real time (video seconds /
wall seconds). Goal (issue 12): at least 1.5x faster than real time, under 1.5 GiB, on 2
cores. Every run draws and encodes the turns already voiced while the next ones are voiced.
Kokoro costs ~0.46 CPU-s per second of speech on a CPU with VNNI (its convolutions rewritten,
``reelforge/engines/tts/kokoro_graph.py``; ~0.67 without), Piper ~0.1 (measured).

With ``--reference`` the W60 reference filtergraph (``../shared/bench``) is timed in the same
run, and each wall time is also given as a multiple of it: absolute times on a shared machine
drift by a third from one hour to the next (the same code measured 59.5 and 79 CPU-seconds),
the multiple much less. ``--repeat N`` runs everything N times, interleaved, and reports the
median run of each.

    python benchmarks/talking.py [--json] [--photo] [--keep DIR] [--only maya,leo,podcast]
                                 [--repeat N] [--reference]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import probe_duration, run  # noqa: E402

REPO = HERE.parent

SCRIPT = """# Working offline

Hello, I am Maya. Today I want to show you how a whole video can be made on your own laptop,
without sending a single file to the cloud.

It starts with a short script, like this one. A voice reads it aloud, and every word gets a
time, so the captions appear exactly when they are spoken.

Then a character says it. My mouth follows the sounds of the voice: open for the vowels,
closed for the letters p, b and m, and round for the oo sounds.

I blink, I breathe, and my head moves a little, so I never look like a cut-out. All of this
is drawn by code, frame by frame, and encoded once with the sound.

The result is a finished vertical video, ready for your phone, made in less time than it takes
to watch. Thanks for watching, and see you next time.
"""

DIALOGUE = """# Episode one: videos without the cloud
HOST: Welcome back to the show. Today my guest builds video tools that run entirely offline.
GUEST: Thanks for having me. It is a topic I could talk about all day.
HOST: Let us start simple. Why would anyone avoid the cloud for this?
GUEST: Privacy, mostly. Your script, your voice and your face never leave your machine.
HOST: And it is fast enough on an ordinary laptop?
GUEST: Faster than real time, yes. The voices are small neural models, and the drawing is cheap.
HOST: What about the characters? They look hand drawn.
GUEST: They are drawn by code, shape by shape, and the mouth follows the phonemes of the voice.
HOST: So every sound changes the mouth?
GUEST: Every sound has a target shape, and the shapes blend into each other, like real lips.
HOST: That is a great place to stop. Thank you for coming.
GUEST: My pleasure. Thanks for having me.
"""


def _one(name: str, argv: list[str], output: Path, env: dict[str, str]) -> dict[str, object]:
    measured = run(name, argv, env=env, cwd=REPO)
    if measured.returncode != 0:
        raise SystemExit(f"{name} failed:\n{measured.stderr_tail}")
    seconds, frames = probe_duration(output)
    manifest = json.loads(output.with_suffix(".json").read_text())
    return {
        "name": name,
        "video_s": round(seconds, 2),
        "frames": frames,
        "size": manifest["size"],
        "wall_s": round(measured.wall_s, 2),
        "cpu_s": round(measured.cpu_s, 2),
        "peak_mib": round(measured.peak_mib, 1),
        "speed_x_real_time": round(seconds / measured.wall_s, 2),
        "cpu_s_per_video_s": round(measured.cpu_s / seconds, 3),
        "voice_s": round(float(manifest["timings"].get("voice_s", 0.0)), 2),
        "encode_s": round(float(manifest["timings"].get("encode_s", 0.0)), 2),
        "voices": [manifest["voice"]]
        if "voice" in manifest
        else [s["voice"] for s in manifest["speakers"]],
        "mouth": manifest.get("mouth", "per speaker"),
        "goal_met": seconds / measured.wall_s >= 1.5 and measured.peak_mib < 1536,
    }


RUNS = ("maya", "leo", "podcast")


def _commands(folder: Path, photo: bool) -> dict[str, tuple[str, list[str], Path]]:
    """Each run's name, command line and output, by key."""
    cli = [sys.executable, "-m", "reelforge.cli"]
    script, dialogue = folder / "script.md", folder / "episode.md"
    runs = {
        name: (f"talking head 9:16 ({name})",
               [*cli, "talk", "--character", name, str(script), "-o", str(folder / f"{name}.mp4")],
               folder / f"{name}.mp4")
        for name in ("maya", "leo")
    }  # fmt: skip
    runs["podcast"] = (
        "podcast 16:9 split",
        [*cli, "podcast", str(dialogue), "-o", str(folder / "podcast.mp4"), "--layout", "split"],
        folder / "podcast.mp4",
    )
    if photo:
        import cv2
        from skimage import data

        picture = folder / "astronaut.png"
        cv2.imwrite(str(picture), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
        out = folder / "photo.mp4"
        runs["photo"] = (
            "talking photo 9:16",
            [*cli, "talk", str(picture), str(script), "-o", str(out)],
            out,
        )
    return runs


def _reference(folder: Path) -> float:
    """Wall seconds of the W60 reference filtergraph (``../shared/bench``), run here now: how
    fast this machine is at the moment, for figures comparable across machines and runs."""
    from w60 import default_bench_dir, ensure_assets

    bench = default_bench_dir()
    assets = Path.home() / ".cache" / "reelforge" / "w60-assets"
    ensure_assets(bench, assets)
    argv = [sys.executable, str(bench / "w60_ffmpeg.py"), str(assets), str(folder / "ref.mp4")]
    measured = run("reference", argv)
    if measured.returncode != 0:
        raise SystemExit(f"the W60 reference failed:\n{measured.stderr_tail}")
    return measured.wall_s


def _median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run of median wall time, with every run's wall and speed beside it."""
    ordered = sorted(runs, key=lambda r: float(str(r["wall_s"])))
    chosen = dict(ordered[len(ordered) // 2])
    if len(runs) > 1:
        chosen["walls_s"] = [r["wall_s"] for r in runs]
        chosen["speeds_x_real_time"] = [r["speed_x_real_time"] for r in runs]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--photo", action="store_true", help="also a talking photo (9:16)")
    parser.add_argument("--keep", help="keep the outputs in this folder")
    parser.add_argument(
        "--only", help=f"comma-separated runs out of {', '.join(RUNS)} (and photo); default all"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (interleaved; medians)")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also time the W60 reference filtergraph now (~40 s): each run's wall time as a "
        "multiple of it compares across machines and across a shared machine's moods",
    )
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="talking-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.md").write_text(SCRIPT, encoding="utf-8")
    (folder / "episode.md").write_text(DIALOGUE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    commands = _commands(folder, args.photo)
    chosen = args.only.split(",") if args.only else list(commands)
    unknown = [name for name in chosen if name not in commands]
    if unknown:
        parser.error(f"unknown run {unknown[0]!r}: pick from {', '.join(commands)}")
    measured: dict[str, list[dict[str, object]]] = {name: [] for name in chosen}
    references = []
    for _ in range(args.repeat):
        if args.reference:
            references.append(_reference(folder))
        for name in chosen:
            title, command, out = commands[name]
            measured[name].append(_one(title, command, out, env))
    results = [_median_run(runs) for runs in measured.values()]
    load = os.getloadavg()
    report: dict[str, object] = {
        "cpus": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in load],
        "repeat": args.repeat, "runs": results, "folder": str(folder),
    }  # fmt: skip
    if references:
        reference = sorted(references)[len(references) // 2]
        report["reference_wall_s"] = round(reference, 2)
        for r in results:
            r["x_reference"] = round(float(str(r["wall_s"])) / reference, 3)
    for r in results:
        print(
            f"{r['name']:28} {r['video_s']:6.1f} s video  wall {r['wall_s']:6.1f} s  "
            f"{r['speed_x_real_time']:5.2f}x real time  cpu {r['cpu_s']:6.1f} s  "
            f"({r['cpu_s_per_video_s']:.2f} per video s)  peak {r['peak_mib']:7.1f} MiB  "
            f"(voices {r['voice_s']:.1f} s, encode {r['encode_s']:.1f} s)"
            + (f"  {r['x_reference']:.2f}x the W60 reference" if "x_reference" in r else "")
        )
    if references:
        print(f"W60 reference filtergraph, same run: {report['reference_wall_s']} s (median)")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
