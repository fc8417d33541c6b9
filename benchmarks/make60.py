#!/usr/bin/env python3
"""The main job end to end: a 60-second script to a finished 1080x1920 video, and a preview.

Runs ``reelforge make benchmarks/script60.md --format 9:16`` exactly as a user would (a fresh
process, an empty voice cache, so Piper really synthesises the narration), then the same with
``--preview``, and prints wall time, CPU time, peak memory, the real-time factor and the wall
time of each stage (voice, music, visuals, render) from the manifest.

    python benchmarks/make60.py [--script FILE] [--format 9:16] [--json] [--keep DIR]
    python benchmarks/make60.py --script benchmarks/script60_fr.md --no-preview   # French

``script60_fr.md`` is the same video in French (nine scenes, the same sentences), spoken by
SVOX Pico where it is installed (else the Kokoro voice) where English gets Piper. The machine's
load (``uptime``) is printed with the figures: on a shared machine compare CPU seconds as well
as wall time.

Targets (issue 2): full render under 60 s wall on 2 cores (faster than real time), preview at
least 5x faster than real time.
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
STAGES = (
    "voice_s",
    "voice_cpu_s",
    "music_s",
    "visuals_s",
    "visuals_cpu_s",
    "render_s",
    "render_cpu_s",
    "audio_mix_s",
    "encode_s",
    "thumbnail_s",
)


def render(
    name: str, script: Path, output: Path, fmt: str, preview: bool, cache: Path, env: dict[str, str]
) -> dict:
    argv = [
        sys.executable,
        "-m",
        "reelforge.cli",
        "make",
        str(script),
        "-o",
        str(output),
        "--format",
        fmt,
        "--quiet",
    ]
    if preview:
        argv.append("--preview")
    measured = run(name, argv, env=dict(env, REELFORGE_CACHE_DIR=str(cache)))
    if measured.returncode != 0:
        raise SystemExit(f"{name} failed ({measured.returncode}):\n{measured.stderr_tail}")
    manifest = json.loads(output.with_suffix(".json").read_text())
    video_s, frames = probe_duration(output)
    return {
        "wall_s": measured.wall_s,
        "cpu_s": measured.cpu_s,
        "peak_mib": measured.peak_mib,
        "video_s": video_s,
        "frames": frames,
        "size": manifest["size"],
        "stages": {k: manifest["timings_s"].get(k) for k in STAGES},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=HERE / "script60.md")
    parser.add_argument("--format", default="9:16", choices=["9:16", "16:9", "1:1"])
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    parser.add_argument("--no-preview", action="store_true", help="render the full video only")
    args = parser.parse_args()

    out = args.keep or Path(tempfile.mkdtemp(prefix="reelforge-make60-"))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # an empty cache for each run: the narration is synthesised, not read back
    full = render(
        "full",
        args.script,
        out / "make60.mp4",
        args.format,
        False,
        Path(tempfile.mkdtemp(prefix="cache-", dir=out)),
        env,
    )
    runs = {"full": full}
    if not args.no_preview:
        runs["preview"] = render(
            "preview",
            args.script,
            out / "make60-preview.mp4",
            args.format,
            True,
            Path(tempfile.mkdtemp(prefix="cache-", dir=out)),
            env,
        )

    load = os.getloadavg()
    print(f"\nmake60: {args.script.name}, {os.cpu_count()} cores, load {load[0]:.1f}")
    for name, r in runs.items():
        w, h = r["size"]
        factor = r["video_s"] / r["wall_s"]
        stages = ", ".join(f"{k[:-2]} {v:.1f}" for k, v in r["stages"].items() if v is not None)
        print(
            f"{name:<8} {w}x{h}: {r['video_s']:.1f} s video in {r['wall_s']:.1f} s wall "
            f"({factor:.2f}x real time), CPU {r['cpu_s']:.1f} s, peak {r['peak_mib']:.0f} MiB"
        )
        print(f"         stages (s): {stages}")
    summary = {
        "wall_s": round(full["wall_s"], 2),
        "video_s": round(full["video_s"], 3),
        "realtime_factor": round(full["video_s"] / full["wall_s"], 3),
        "cpu_s": round(full["cpu_s"], 1),
        "peak_mib": round(full["peak_mib"]),
        "load": round(load[0], 2),
        "size": full["size"],
        "stages_s": full["stages"],
    }
    preview = runs.get("preview")
    if preview:
        summary["preview_wall_s"] = round(preview["wall_s"], 2)
        summary["preview_realtime_factor"] = round(preview["video_s"] / preview["wall_s"], 3)
        summary["preview_peak_mib"] = round(preview["peak_mib"])
        summary["preview_stages_s"] = preview["stages"]
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
