"""The front door: ``import reelforge`` is light, and a saved timeline renders as ``make`` does.

Planning decides every render choice (a preview's single loudness pass, the segments of the
encode, burned captions) and keeps it in the timeline, so rendering the timeline JSON through
the command line compiles exactly the plan ``make`` ran.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import fake_voice  # noqa: F401  (fixture)

import reelforge
from reelforge import cli
from reelforge.render.plan import RenderPlan

HEAVY = ("numpy", "cv2", "onnxruntime", "fastapi", "PIL", "pretty_midi", "sqlalchemy")


def test_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, reelforge\n"
        f"print([name for name in {HEAVY!r} if name in sys.modules])\n"
        "reelforge.list_moods(); reelforge.list_styles(); reelforge.list_templates()\n"
        f"print([name for name in {HEAVY!r} if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # importing and listing the catalogues reads the engines' light metadata only
    assert done.stdout.splitlines() == ["[]", "[]"], done.stdout + done.stderr


def test_front_door_has_the_verbs_and_types() -> None:
    for name in reelforge.__all__:
        assert getattr(reelforge, name) is not None, name
    assert reelforge.Timeline.__name__ == "Timeline"
    with pytest.raises(AttributeError):
        reelforge.no_such_verb  # noqa: B018
    assert "calm" in reelforge.list_moods() and reelforge.list_moods()["calm"]
    assert "bokeh" in reelforge.list_styles() and reelforge.list_styles()["bokeh"]


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[RenderPlan]:
    """Every plan the runner is given, instead of running it (nothing is encoded)."""
    plans: list[RenderPlan] = []

    def run_plan(timeline: object, plan: RenderPlan, *args: object, **kwargs: object) -> dict:
        plans.append(plan)
        return {}

    monkeypatch.setattr("reelforge.render.runner.run_plan", run_plan)
    return plans


def _text(plan: RenderPlan, work: Path) -> str:
    """The plan as text, wherever its work folder is (a file's size counts its path too)."""
    text = plan.to_text().replace(str(work), "<work>")
    return re.sub(r"\(\d+ chars\)", "", text)


@pytest.mark.usefixtures("fake_voice")
def test_rendering_the_saved_timeline_compiles_the_plan_make_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = _captured(monkeypatch)
    board = reelforge.parse_script(
        "The harbour wakes at dawn.\n\nBy noon the market is full of voices.\n",
        voice="fake-adult-male",
        music="none",
        resolution=180,
    )
    output = tmp_path / "out" / "video.mp4"
    made = reelforge.make(
        board,
        output,
        preview=True,
        keep_workdir=True,
        cache_dir=tmp_path / "cache",
        segment_seconds=1.0,
    )
    (made_plan,) = plans
    # the preview and segmenting choices are in the timeline, not arguments of render
    assert made.timeline.mix.loudness_passes == made_plan.loudness_passes == 1
    assert made.timeline.encoder.segment_frames == made.timeline.fps
    assert len(made_plan.segments) > 1 and made_plan.join_args

    # the timeline JSON written by `plan` and the manifest's timeline both render the same way
    saved = tmp_path / "timeline.json"
    saved.write_text(made.timeline.to_json(), encoding="utf-8")
    manifest = json.loads(made.manifest.read_text(encoding="utf-8"))
    assert reelforge.Timeline.from_dict(manifest["timeline"]) == made.timeline
    assert reelforge.load_timeline(saved) == made.timeline

    code = cli.main(["render", str(saved), "-o", str(output), "--print-plan"])
    assert code == 0
    printed = capsys.readouterr().out.strip()
    work = output.parent / f".{output.stem}.work"
    assert re.sub(r"\(\d+ chars\)", "", printed.replace(str(work), "<work>")) == _text(
        made_plan, work
    )

    code = cli.main(["render", str(saved), "-o", str(output), "--quiet"])
    assert code == 0
    rendered = plans[-1]  # in a temporary work folder of its own
    assert _text(rendered, Path(rendered.segments[0].output).parent) == _text(made_plan, work)


def test_timeline_json_round_trips_without_evaluating_anything() -> None:
    golden = (Path(__file__).parent / "golden" / "planned_timeline.json").read_text("utf-8")
    timeline = reelforge.Timeline.from_json(golden)
    assert timeline.to_json(indent=1) + "\n" == golden
    assert timeline.watermark is not None and timeline.captions[0].words
    assert isinstance(timeline.clips[0].layers, tuple)
    # values are data: an expression where a record belongs is refused, never run
    data = json.loads(golden)
    data["mix"] = "__import__('os').getcwd()"
    with pytest.raises(TypeError, match="Mix must be a JSON object"):
        reelforge.Timeline.from_dict(data)


@pytest.mark.usefixtures("fake_voice")
def test_make_drops_the_voice_models_before_the_encode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kokoro's session must not stay loaded under the encode (its memory would stack on the
    encoder's); the manifest gives each stage's CPU seconds beside its wall time."""
    steps: list[str] = []
    monkeypatch.setattr("reelforge.voices.release_models", lambda: steps.append("release"))

    def run_plan(*args: object, **kwargs: object) -> dict:
        steps.append("encode")
        return {}

    monkeypatch.setattr("reelforge.render.runner.run_plan", run_plan)
    board = reelforge.parse_script("The harbour wakes at dawn.\n", music="none", resolution=180)
    made = reelforge.make(board, tmp_path / "video.mp4", preview=True, cache_dir=tmp_path / "c")
    assert steps == ["release", "encode"]
    timings = json.loads(made.manifest.read_text(encoding="utf-8"))["timings_s"]
    assert timings["voice_cpu_s"] >= 0 and timings["render_cpu_s"] >= 0


def test_extract_clips_takes_an_options_object_or_its_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[reelforge.ClipOptions] = []

    def run(source: Path, output_dir: Path, options: reelforge.ClipOptions, **kwargs: object):
        given.append(options)
        return None

    monkeypatch.setattr("reelforge.clips.pipeline.extract_clips", run)
    reelforge.extract_clips("talk.mp4", tmp_path, count=3, format="1:1", llm=False)
    chosen = reelforge.ClipOptions(count=2, query="bread")
    reelforge.extract_clips("talk.mp4", tmp_path, chosen, count=4)  # keywords win
    assert given == [
        reelforge.ClipOptions(count=3, format="1:1", llm=False),
        reelforge.ClipOptions(count=4, query="bread"),
    ]
    with pytest.raises(TypeError, match="cont"):
        reelforge.extract_clips("talk.mp4", tmp_path, cont=3)
