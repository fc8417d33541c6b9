"""The render runner on a segmented plan drawn by a frame source (as talking videos render):
the sound is mixed while the segments encode, and a mix that fails stops the render before
the next segment, leaving no output."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from reelforge.errors import RenderError
from reelforge.media.probe import probe
from reelforge.render import runner
from reelforge.render.plan import compile_plan
from reelforge.timeline import AudioTrack, Encoder, Mix, Timeline

SIZE, FPS, FRAMES = 64, 10, 30


def _timeline(tmp_path: Path) -> Timeline:
    voice = tmp_path / "voice.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:duration=2.5",
         "-ar", "24000", "-ac", "1", str(voice)],
        check=True,
    )  # fmt: skip
    return Timeline(
        width=SIZE,
        height=SIZE,
        fps=FPS,
        frames=FRAMES,
        clips=(),
        audio=(AudioTrack(str(voice), "narration", start_ms=300),),
        mix=Mix(duck=False),
        encoder=Encoder(preset="ultrafast"),
    )


class _Drawn:
    """A frame source (grey I420 frames) that counts what it drew, slowly at first."""

    def __init__(self, slow_frames: int = 0) -> None:
        self.numbers: list[int] = []
        self.slow_frames = slow_frames

    def __call__(self, start: int, end: int) -> Iterator[NDArray[np.uint8]]:
        for number in range(start, end):
            if number < self.slow_frames:
                time.sleep(0.05)
            self.numbers.append(number)
            yield np.full((SIZE * 3 // 2, SIZE), 128, np.uint8)


def test_a_segmented_render_mixes_its_sound_beside_the_encode(tmp_path: Path) -> None:
    timeline = _timeline(tmp_path)
    output = tmp_path / "out.mp4"
    plan = compile_plan(timeline, output, tmp_path / "work", cuts=[10, 20])
    assert len(plan.segments) == 3 and plan.join_args
    drawn = _Drawn()
    timings = runner.run_plan(timeline, plan, source=drawn)
    assert drawn.numbers == list(range(FRAMES))
    info = probe(output)
    assert info.has_audio and abs(info.duration_ms - FRAMES * 1000 // FPS) < 150
    assert timings["audio_mix_s"] > 0 and timings["loudness_measured_lufs"] < 0
    assert not any(Path(s.output).exists() for s in plan.segments)


def test_a_failed_mix_stops_the_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> runner.AudioLevel:
        raise RenderError("the narration could not be mixed", hint="check the voice files")

    monkeypatch.setattr(runner, "premix_audio", broken)
    timeline = _timeline(tmp_path)
    output = tmp_path / "out.mp4"
    plan = compile_plan(timeline, output, tmp_path / "work", cuts=[10, 20])
    drawn = _Drawn(slow_frames=10)  # the mix has failed before the first segment ends
    with pytest.raises(RenderError, match="could not be mixed"):
        runner.run_plan(timeline, plan, source=drawn)
    assert all(n < 10 for n in drawn.numbers)  # the later segments were never drawn
    assert not output.exists()
