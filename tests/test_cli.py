"""The command line: every user mistake gives one clear message, an exit code, and no output.

Each error case runs ``reelforge make`` in-process through :func:`reelforge.cli.main` and checks
that stderr holds exactly one ``error:`` line naming the problem and one ``hint:`` line with the
fix, no traceback, the exit code of the error's class, and no video or sidecar left behind.
One case runs the real command in a subprocess with no ffmpeg on its PATH.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeVoice, fake_voice  # noqa: F401  (fixture)

from reelforge import cli
from reelforge.errors import (
    EngineFailed,
    EngineUnavailable,
    MediaError,
    RenderError,
    SpecError,
)
from reelforge.settings import get_settings
from reelforge.spec.model import Storyboard

FAKE = "fake-adult-male"
SCRIPT = "The harbour wakes at dawn.\n\nBy noon the market is full of voices.\n"
QUICK = ["--voice", FAKE, "--music", "none", "--preview", "--resolution", "180", "--quiet"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in ``tmp_path`` with a private cache (settings are read once, so reset them)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("REELFORGE_DEBUG", raising=False)
    get_settings.cache_clear()
    (tmp_path / "script.md").write_text(SCRIPT, encoding="utf-8")
    yield tmp_path
    get_settings.cache_clear()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_clear_error(err: str, *names: str, hint: str) -> None:
    """One error line naming the problem, one hint line with the fix, no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, f"expected an error and a hint line, got:\n{err}"
    error, fix = lines
    assert error.startswith("error: ")
    assert fix.startswith("  hint: ")
    for name in names:
        assert name in error, f"{name!r} not named in {error!r}"
    assert hint in fix, f"{hint!r} not in {fix!r}"


def assert_nothing_written(folder: Path, stem: str = "video") -> None:
    """No video, no sidecar, no work folder: nothing claims the run succeeded."""
    if not folder.exists():
        return
    left = sorted(p.name for p in folder.iterdir())
    assert not [n for n in left if n.startswith((stem + ".", "." + stem))], left


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- error cases


@pytest.mark.usefixtures("fake_voice")
@pytest.mark.parametrize(
    ("case", "exit_code", "names", "hint"),
    [
        ("empty script", SpecError.exit_code, ["script is empty"], "narration"),
        ("missing script", SpecError.exit_code, ["not found", "nothere.md"], "check the path"),
        ("unknown template", SpecError.exit_code, ["unknown template", "'nope'"], "restaurant"),
        (
            "unknown voice",
            SpecError.exit_code,
            ["unknown voice", "'zz-robot-male'"],
            "reelforge voices",
        ),
        ("unknown language", SpecError.exit_code, ["language", "'xx'"], "reelforge voices"),
        ("missing image", MediaError.exit_code, ["gone.png", "not found"], "check the file name"),
        ("corrupt image", MediaError.exit_code, ["bad.png", "corrupt"], "re-export"),
        ("corrupt music", MediaError.exit_code, ["bad.mp3", "corrupt"], "re-export"),
        (
            "music without sound",
            MediaError.exit_code,
            ["picture.png", "no audio"],
            "file with sound",
        ),
        ("output not mp4", SpecError.exit_code, ["video.avi", ".mp4"], "-o NAME.mp4"),
    ],
)
def test_make_error_is_one_clear_message(
    case: str,
    exit_code: int,
    names: list[str],
    hint: str,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    garbage = os.urandom(4096)
    (workspace / "bad.png").write_bytes(garbage)
    (workspace / "bad.mp3").write_bytes(garbage)
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 10, 10)).save(workspace / "picture.png")
    script = "script.md"
    output = "out/video.mp4"
    extra: list[str] = []
    if case == "empty script":
        script = str(_write(workspace / "empty.md", "\n\n<!-- nothing yet -->\n"))
    elif case == "missing script":
        script = "nothere.md"
    elif case == "unknown template":
        extra = ["--template", "nope"]
    elif case == "unknown voice":
        extra = ["--voice", "zz-robot-male"]
    elif case == "unknown language":
        extra = ["--language", "xx"]
    elif case == "missing image":
        script = str(_write(workspace / "s.yaml", "scenes:\n  - {narration: Hi, visual: gone.png}"))
    elif case == "corrupt image":
        script = str(_write(workspace / "s.yaml", "scenes:\n  - {narration: Hi, visual: bad.png}"))
    elif case == "corrupt music":
        script = str(_write(workspace / "s.yaml", "music: bad.mp3\nscenes:\n  - Hello there.\n"))
    elif case == "music without sound":
        script = str(
            _write(workspace / "s.yaml", "music: {path: picture.png}\nscenes:\n  - Hello there.\n")
        )
    elif case == "output not mp4":
        output = "out/video.avi"
    argv = ["make", script, "-o", output, *QUICK, *extra]
    if case in ("corrupt music", "music without sound"):  # the storyboard's music, not none
        del argv[argv.index("--music") : argv.index("--music") + 2]
    code, out, err = run_cli(capsys, *argv)
    assert code == exit_code, err
    assert_one_clear_error(err, *names, hint=hint)
    assert_nothing_written(workspace / "out")
    if case in ("corrupt image", "corrupt music", "music without sound"):
        assert FakeVoice.calls == [], "bad media must fail before any voice work"


@pytest.mark.usefixtures("fake_voice")
def test_no_ffmpeg_fails_before_any_work(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = workspace / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = run_cli(capsys, "make", "script.md", "-o", "out/video.mp4", *QUICK)
    assert code == RenderError.exit_code
    assert_one_clear_error(err, "ffmpeg was not found", hint="apt-get install ffmpeg")
    assert FakeVoice.calls == []
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_full_disk_is_reported_before_rendering(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    code, _, err = run_cli(capsys, "make", "script.md", "-o", "out/video.mp4", *QUICK)
    assert code == RenderError.exit_code
    assert_one_clear_error(err, "not enough free disk space", "MiB", hint="free disk space")
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_disk_filling_up_while_ffmpeg_writes(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ffmpeg's own ENOSPC failure becomes the error, with the hint to free disk space."""
    fake_bin = workspace / "bin"
    fake_bin.mkdir()
    ffmpeg = fake_bin / "ffmpeg"
    ffmpeg.write_text(
        "#!/bin/sh\n"
        'echo "[out#0/mp4 @ 0x5e] Error opening output out.mp4: No space left on device" >&2\n'
        "exit 1\n"
    )
    ffmpeg.chmod(0o755)
    real_ffprobe = shutil.which("ffprobe")
    assert real_ffprobe
    (fake_bin / "ffprobe").symlink_to(real_ffprobe)
    monkeypatch.setenv("PATH", str(fake_bin))
    code, _, err = run_cli(capsys, "make", "script.md", "-o", "out/video.mp4", *QUICK)
    assert code == RenderError.exit_code
    assert_one_clear_error(err, "ffmpeg failed", "No space left on device", hint="free disk")
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_unreadable_music_file(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "locked.wav").write_bytes(b"RIFF" + os.urandom(64))
    _write(workspace / "s.yaml", "music: locked.wav\nscenes:\n  - Hello there.\n")
    real_access = os.access  # tests may run as root, which chmod cannot lock out

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        if Path(path).name == "locked.wav":
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    argv = ["make", "s.yaml", "-o", "out/video.mp4", "--voice", FAKE, "--preview", "--quiet"]
    code, _, err = run_cli(capsys, *argv)
    assert code == MediaError.exit_code
    assert_one_clear_error(err, "locked.wav", "cannot be read", hint="permissions")
    assert FakeVoice.calls == []
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_a_failure_after_the_encode_leaves_no_video_claiming_success(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import reelforge.pipeline

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reelforge.pipeline, "write_sidecars", disk_full)
    code, _, err = run_cli(capsys, "make", "script.md", "-o", "out/video.mp4", *QUICK)
    assert code == 1
    assert_one_clear_error(err, "No space left on device", hint="free disk space")
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_debug_shows_the_traceback(workspace: Path) -> None:
    with pytest.raises(SpecError, match="unknown template"):
        cli.main(["--debug", "make", "script.md", "-o", "out/video.mp4", "--template", "nope"])


def test_each_error_class_has_its_own_exit_code() -> None:
    codes = [
        cls.exit_code
        for cls in (SpecError, MediaError, EngineUnavailable, EngineFailed, RenderError)
    ]
    assert len(set(codes)) == len(codes) and 0 not in codes and 1 not in codes


def test_subprocess_without_ffmpeg(tmp_path: Path) -> None:
    """The installed command, as a user runs it: exit code and stderr only, no traceback."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "script.md").write_text(SCRIPT, encoding="utf-8")
    env = {
        "PATH": str(tmp_path / "bin"),
        "HOME": str(tmp_path),
        "REELFORGE_CACHE_DIR": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "reelforge.cli", "make", "script.md", "-o", "out/video.mp4"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == RenderError.exit_code, done.stderr
    assert done.stdout == ""
    assert_one_clear_error(done.stderr, "ffmpeg was not found", hint="apt-get install ffmpeg")
    assert_nothing_written(tmp_path / "out")


# --------------------------------------------------------------------------- the other commands


@pytest.mark.parametrize("command", [*cli.COMMANDS, None])
def test_help_of_each_command(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: reelforge {command or ''}".rstrip())
    if command is None:
        for name in cli.COMMANDS:
            assert name in out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_schema_prints_a_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert set(schema["properties"]) == set(Storyboard.model_fields)
    assert schema["required"] == ["scenes"]
    for ref in _refs(schema):  # every reference resolves inside the document
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in schema["$defs"]
    assert "restaurant" in schema["properties"]["template"]["description"]


def test_voices_by_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "voices", "--language", "fr")
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert rows, "no French voice listed"
    assert {row[1] for row in rows} == {"fr"}
    assert "fr-adult-male" in {row[0] for row in rows}
    code, out, _ = run_cli(capsys, "voices", "--language", "fr", "--json")
    assert code == 0
    listed = json.loads(out)
    assert {v["language"] for v in listed} == {"fr"} and len(listed) == len(rows)
    code, out, _ = run_cli(capsys, "voices", "--language", "fr-FR")  # a regional tag
    assert code == 0 and len(out.splitlines()) == len(rows)


def test_templates_and_moods_list_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "templates")
    assert code == 0
    assert {line.split()[0] for line in out.splitlines()} >= {
        "restaurant",
        "real-estate",
        "product-promo",
        "explainer",
        "childrens-story",
        "news",
    }
    code, out, _ = run_cli(capsys, "moods")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"calm", "maghreb", "bollywood", "devotional", "epic", "lullaby"} <= listed


@pytest.mark.usefixtures("fake_voice")
def test_make_writes_the_video_and_says_where(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "make", "script.md", "-o", "out/video.mp4", *QUICK)
    assert code == 0, err
    assert out.startswith("wrote out/video.mp4")
    assert "note:" not in out
    for name in (
        "video.mp4",
        "video.srt",
        "video.vtt",
        "video.ass",
        "video.words.json",
        "video.jpg",
        "video.json",
    ):
        assert (workspace / "out" / name).is_file(), name
        assert name in out


@pytest.mark.usefixtures("fake_voice")
def test_plan_then_render_the_timeline(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys,
        "plan",
        "script.md",
        "-o",
        "plans/timeline.json",
        "--voice",
        FAKE,
        "--music",
        "none",
        "--resolution",
        "180",
    )
    assert code == 0, err
    timeline = json.loads((workspace / "plans" / "timeline.json").read_text(encoding="utf-8"))
    assert (timeline["width"], timeline["height"]) == (320, 180)
    code, out, err = run_cli(
        capsys, "render", "plans/timeline.json", "-o", "out/video.mp4", "--quiet"
    )
    assert code == 0, err
    assert (workspace / "out" / "video.mp4").is_file()


@pytest.mark.usefixtures("fake_voice")
def test_render_errors_name_the_problem(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(workspace / "storyboard.json", '{"scenes": ["Hello."]}')
    code, _, err = run_cli(capsys, "render", "storyboard.json", "-o", "out/video.mp4")
    assert code == SpecError.exit_code
    assert_one_clear_error(
        err, "storyboard.json", "not a reelforge timeline", hint="reelforge plan"
    )
    # A manifest's timeline points into its render's work folder, which is gone afterwards.
    code, _, err = run_cli(capsys, "make", "script.md", "-o", "made/video.mp4", *QUICK)
    assert code == 0, err
    code, _, err = run_cli(capsys, "render", "made/video.json", "-o", "out/video.mp4")
    assert code == MediaError.exit_code
    assert_one_clear_error(err, "gone", ".work", hint="--keep-work")
    assert_nothing_written(workspace / "out")


@pytest.mark.usefixtures("fake_voice")
def test_make_says_when_the_target_duration_cannot_be_met(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["make", "script.md", "-o", "out/video.mp4", "--duration", "1", *QUICK]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("  note: ")]
    assert len(notes) == 1 and "target_duration" in notes[0] and "1 s" in notes[0]


@pytest.mark.usefixtures("fake_voice")
def test_print_plan_shows_the_ffmpeg_plan_without_rendering(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["make", "script.md", "-o", "out/video.mp4", "--print-plan", *QUICK]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert out.startswith("plan 320x180@15 frames=")
    assert "audio: ffmpeg " in out and "segment [0," in out and "+faststart" in out
    assert not (workspace / "out" / "video.mp4").exists()


def test_engines_lists_each_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "engines")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert {(row[0], row[1]) for row in rows} >= {
        ("voice", "piper"),
        ("voice", "espeak"),
        ("music", "procedural"),
        ("visuals", "procedural"),
    }


def test_python_dash_m_runs_the_command_line() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "reelforge", "templates"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "restaurant" in done.stdout
