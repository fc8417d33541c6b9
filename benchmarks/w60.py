#!/usr/bin/env python3
"""W60 through reelforge, beside the reference filtergraph and the stills-only floor.

W60 (``../shared/bench/README.md``): 60 s of 1080x1920 at 30 fps, 8 stills with Ken Burns
motion, 0.5 s crossfades, 154 burned caption words, narration plus ducked music, x264 veryfast
crf 23. This script builds the assets with the bench's own ``w60_assets.py`` (once, cached),
states the same workload as a reelforge storyboard (its narration, music and caption timings
used as given), and renders, in the same run:

  reference  w60_ffmpeg.py ASSETS ref.mp4                       (one ffmpeg filtergraph)
  floor      w60_ffmpeg.py ASSETS floor.mp4 --zoom none --no-xfade --no-subs --audio none
  reelforge  reelforge make w60.yaml -o rf.mp4                  (the project's renderer)

and prints wall time, CPU time and peak memory of each, and the ratios. Absolute times drift on
shared machines; the ratios are measured side by side. With ``--repeat N`` each contender runs
N times (interleaved) and medians are reported.

    python benchmarks/w60.py [--bench-dir DIR] [--assets DIR] [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import Measured, median, probe_duration, run  # noqa: E402

REPO = HERE.parent


def default_bench_dir() -> Path:
    env = os.environ.get("REELFORGE_BENCH_DIR")
    return Path(env) if env else REPO.parent / "shared" / "bench"


def ensure_assets(bench: Path, assets: Path) -> dict:
    """Generate the W60 assets with the bench's own script, unless already there."""
    timeline = assets / "timeline.json"
    if not timeline.is_file():
        assets.mkdir(parents=True, exist_ok=True)
        print(f"generating W60 assets in {assets} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(bench / "w60_assets.py"), str(assets)], check=True)
    return json.loads(timeline.read_text())


def storyboard(assets: Path, spec: dict) -> dict:
    """W60 as a reelforge storyboard: the same stills, motion, cuts, audio and captions."""
    fps = spec["fps"]
    xfade = spec["xfade_frames"] / fps
    scenes = []
    for i, clip in enumerate(spec["clips"]):
        # a clip after the first also covers the crossfade into it: the scene's own slot is
        # its frames less that overlap, exactly as reelforge lays transitions out
        own = clip["frames"] - (spec["xfade_frames"] if i else 0)
        zoom, pan = ([1.0, 1.2], [0, 1]) if i % 2 == 0 else ([1.2, 1.0], [1, 0])
        scenes.append(
            {
                "duration": own / fps,
                "visual": {
                    "path": str(assets / clip["image"]),
                    "fit": "cover",
                    "motion": {"zoom": zoom, "x": pan, "y": [0.5, 0.5], "easing": "linear"},
                },
            }
        )
    return {
        "title": "",
        "format": "9:16",
        "resolution": spec["width"],
        "fps": fps,
        "transition": {"kind": "crossfade", "duration": xfade},
        "narration": {"path": str(assets / "narration.wav")},
        "music": {"path": str(assets / "music.wav"), "volume_db": spec["music_db"]},
        "captions": {
            "file": str(assets / "captions.json"),
            "style": "plain",
            "font": "DejaVu Sans",
            "size": 80,
            "outline": 5,
            "margin": 400,
            "color": "#ffffff",
        },
        "padding": 0,  # the recording is laid out to exactly 60 s: no tail after it
        "loudness": None,  # the reference does not normalise: neither do we, here
        "grade": "none",
        # the reference's settings: ffmpeg's default AAC search (twoloop), not reelforge's
        "encoder": {"preset": "veryfast", "crf": 23, "aac_coder": "twoloop"},
        "scenes": scenes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=default_bench_dir(),
        help="folder with w60_assets.py and w60_ffmpeg.py (../shared/bench)",
    )
    parser.add_argument(
        "--assets",
        type=Path,
        default=Path.home() / ".cache" / "reelforge" / "w60-assets",
        help="where the W60 assets are (generated there when missing)",
    )
    parser.add_argument("--out", type=Path, help="keep outputs here (default: a temp folder)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (medians)")
    parser.add_argument("--skip-floor", action="store_true", help="do not run the floor")
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    args = parser.parse_args()

    bench = args.bench_dir.resolve()
    if not (bench / "w60_ffmpeg.py").is_file():
        parser.error(f"{bench} has no w60_ffmpeg.py: pass --bench-dir (the ../shared/bench folder)")
    spec = ensure_assets(bench, args.assets.resolve())
    assets = args.assets.resolve()
    out = args.out or Path(tempfile.mkdtemp(prefix="reelforge-w60-"))
    out.mkdir(parents=True, exist_ok=True)
    board = out / "w60.yaml"
    board.write_text(yaml.safe_dump(storyboard(assets, spec), sort_keys=False))

    reelforge = [
        sys.executable,
        "-m",
        "reelforge.cli",
        "make",
        str(board),
        "-o",
        str(out / "rf.mp4"),
        "--quiet",
    ]
    contenders = {
        "reference": [
            sys.executable,
            str(bench / "w60_ffmpeg.py"),
            str(assets),
            str(out / "ref.mp4"),
        ],
        "floor": [
            sys.executable,
            str(bench / "w60_ffmpeg.py"),
            str(assets),
            str(out / "floor.mp4"),
            "--zoom",
            "none",
            "--no-xfade",
            "--no-subs",
            "--audio",
            "none",
        ],
        "reelforge": reelforge,
    }
    if args.skip_floor:
        del contenders["floor"]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    results: dict[str, list[Measured]] = {name: [] for name in contenders}
    for attempt in range(args.repeat):
        for name, argv in contenders.items():
            print(f"[{attempt + 1}/{args.repeat}] {name} ...", file=sys.stderr, flush=True)
            measured = run(name, argv, env=env)
            if measured.returncode != 0:
                print(
                    f"{name} failed ({measured.returncode}):\n{measured.stderr_tail}",
                    file=sys.stderr,
                )
                return 1
            results[name].append(measured)

    rows = {
        name: {
            "wall_s": median([m.wall_s for m in runs]),
            "cpu_s": median([m.cpu_s for m in runs]),
            "peak_mib": max(m.peak_mib for m in runs),
        }
        for name, runs in results.items()
    }
    duration, frames = probe_duration(out / "rf.mp4")
    ref_duration, ref_frames = probe_duration(out / "ref.mp4")
    print(
        f"\nW60: 60 s of 1080x1920 at 30 fps, x264 veryfast crf 23, {os.cpu_count()} cores, "
        f"{args.repeat} run(s) each (medians)"
    )
    print(f"{'contender':<11} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9} {'x reference':>12}")
    ref_wall = rows["reference"]["wall_s"]
    for name, row in rows.items():
        print(
            f"{name:<11} {row['wall_s']:8.1f} {row['cpu_s']:8.1f} {row['peak_mib']:9.0f} "
            f"{row['wall_s'] / ref_wall:12.2f}"
        )
    print(
        f"outputs: reelforge {duration:.3f} s / {frames} frames, "
        f"reference {ref_duration:.3f} s / {ref_frames} frames  ({out})"
    )
    summary = {
        "reelforge_wall_s": round(rows["reelforge"]["wall_s"], 2),
        "reference_wall_s": round(ref_wall, 2),
        "floor_wall_s": round(rows["floor"]["wall_s"], 2) if "floor" in rows else None,
        "ratio_vs_reference": round(rows["reelforge"]["wall_s"] / ref_wall, 3),
        "ratio_vs_floor": (
            round(rows["reelforge"]["wall_s"] / rows["floor"]["wall_s"], 3)
            if "floor" in rows
            else None
        ),
        "reelforge_cpu_s": round(rows["reelforge"]["cpu_s"], 1),
        "reference_cpu_s": round(rows["reference"]["cpu_s"], 1),
        "peak_mib": round(rows["reelforge"]["peak_mib"]),
        "reference_peak_mib": round(rows["reference"]["peak_mib"]),
        "frames": frames,
        "repeat": args.repeat,
    }
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
