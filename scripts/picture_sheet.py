"""Before/after sheets of the shipped examples: one frame per scene, procedural vs illustrated.

    PYTHONPATH=. .venv/bin/python scripts/picture_sheet.py [--out docs/pictures] [examples...]

Each example is planned at preview size twice (``visual_engine: procedural``, then the default
``illustrated``), one frame is drawn per scene 2 s into it (after the entrances) by the real
compositor, with the captions burned by libass as the encoder burns them, and the pairs are
stacked into ``<out>/<example>.jpg``. It prints, per scene, what the illustrated engine matched,
and the share of scenes whose picture matched a subject.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

import reelforge
from reelforge.captions.formats import to_ass
from reelforge.media.ffmpeg import run_ffmpeg
from reelforge.plan import plan
from reelforge.render.compositor import Compositor
from reelforge.render.plan import escape_filter_path


def _frames(board: reelforge.Storyboard, work: Path, cache: Path) -> tuple[list[np.ndarray], list]:
    planned = plan(board, work, preview=True, cache_dir=cache)
    timeline = planned.timeline
    compositor = Compositor(timeline)
    ass = work / "captions.ass"
    ass.write_text(
        to_ass(
            timeline.captions,
            timeline.caption_style,
            timeline.width,
            timeline.height,
            fonts_hint=timeline.language,
        ),
        encoding="utf-8",
    )
    frames = []
    for clip in timeline.clips:
        at = clip.start + min(clip.frames - 1, 2 * timeline.fps)
        frames.append(_captioned(compositor.frame(at), at / timeline.fps, ass, work))
    compositor.close()
    return frames, planned.scenes


def _captioned(frame: np.ndarray, seconds: float, ass: Path, work: Path) -> np.ndarray:
    """``frame`` with the captions libass burns at ``seconds``, as the encoder would."""
    still, out = work / "still.png", work / "captioned.png"
    cv2.imwrite(str(still), frame)
    burn = f"ass=filename={escape_filter_path(str(ass))}:shaping=complex"
    graph = f"setpts=PTS+{seconds:.3f}/TB,{burn}"
    run_ffmpeg(["-y", "-i", str(still), "-vf", graph, "-frames:v", "1", str(out)])
    return cv2.imread(str(out))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("examples", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/pictures"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelforge-sheet"))
    args = parser.parse_args()
    examples = args.examples or sorted(
        p for p in Path("examples").iterdir() if p.suffix in (".md", ".yaml") and p.stem != "README"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    total = matched = 0
    report = {}
    for path in examples:
        try:
            board = reelforge.load_spec(path)
        except reelforge.ReelforgeError as exc:  # e.g. a picture the example does not ship
            print(f"{path.stem}: skipped: {exc.message}")
            continue
        name = path.stem
        before, _ = _frames(
            board.model_copy(update={"visual_engine": "procedural"}),
            args.work / name / "before",
            args.work / "cache",
        )
        after, scenes = _frames(board, args.work / name / "after", args.work / "cache")
        rows = []
        for k, (a, b) in enumerate(zip(before, after, strict=True)):
            gap = np.full((a.shape[0], 6, 3), 255, np.uint8)
            rows.append(np.hstack([a, gap, b]))
            picture = str(scenes[k].get("picture") or "")
            total += 1
            matched += picture.startswith("illustrated")
            print(f"{name} scene {k + 1}: {picture}")
        bar = np.full((6, rows[0].shape[1], 3), 255, np.uint8)
        sheet = np.vstack([r for row in rows for r in (row, bar)][:-1])
        cv2.imwrite(str(args.out / f"{name}.jpg"), sheet, [cv2.IMWRITE_JPEG_QUALITY, 82])
        report[name] = [s.get("picture") for s in scenes]
    share = matched / max(1, total)
    print(
        f"scenes whose picture matched a subject of the narration: {matched}/{total} = {share:.0%}"
    )
    (args.out / "matches.json").write_text(
        json.dumps({"share": round(share, 3), "scenes": report}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
