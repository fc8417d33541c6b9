"""Engines are chosen by name: the storyboard's ``music.engine`` and ``visual_engine`` pick a
registered engine (default "procedural"), and the moods and styles a storyboard may name are
that engine's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakes import FakeMusic, fake_voice  # noqa: F401  (fixture)
from PIL import Image

from reelforge.engines import registry
from reelforge.engines.base import EngineInfo, VisualLayer, VisualRequest, VisualResult
from reelforge.errors import EngineUnavailable, SpecError
from reelforge.plan import plan
from reelforge.spec.parse import build_storyboard

pytestmark = pytest.mark.usefixtures("fake_voice")


class FlatVisuals:
    """A second visuals engine: one flat picture per scene in the palette's accent colour."""

    name: ClassVar[str] = "flat"
    calls: ClassVar[list[VisualRequest]] = []

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, "visuals", "flat-1")

    def styles(self) -> list[str]:
        return ["plain"]

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        type(self).calls.append(request)
        path = workdir / "flat.png"
        Image.new("RGB", (request.width, request.height), request.palette[-1]).save(path)
        return VisualResult(layers=(VisualLayer(path),), engine=self.name, version="flat-1")


@pytest.fixture
def second_engines() -> Iterator[None]:
    """``flat`` visuals and ``fake`` music registered beside the procedural ones."""
    registry.register("visuals", "flat", FlatVisuals)
    registry.register("music", "fake", FakeMusic)
    FlatVisuals.calls.clear()
    FakeMusic.calls.clear()
    try:
        yield
    finally:
        for kind, name in (("visuals", "flat"), ("music", "fake")):
            registry.AVAILABLE_ENGINES[kind].pop(name, None)
            registry._instances.pop((kind, name), None)


def _board(**fields: Any) -> Any:
    data = {"voice": "fake-adult-male", "resolution": 144, "scenes": ["Hello there."]}
    return build_storyboard({**data, **fields})


@pytest.mark.usefixtures("second_engines")
def test_the_storyboard_picks_the_visuals_and_music_engines(tmp_path: Path) -> None:
    board = _board(
        visual_engine="flat",
        music={"engine": "fake", "mood": "warm"},  # "warm" is the fake engine's mood only
        scenes=[{"narration": "Hello there.", "visual": {"style": "plain"}}],
    )
    planned = plan(board, tmp_path / "work", cache_dir=tmp_path / "cache")
    assert [call.style for call in FlatVisuals.calls] == ["plain"]
    assert [call.mood for call in FakeMusic.calls] == ["warm"]
    assert planned.engines["visuals"] == {"name": "flat", "version": "flat-1"}
    assert planned.engines["music"]["name"] == "fake"
    (layer,) = planned.timeline.clips[0].layers
    assert Path(layer.path).name == "flat.png" and layer.detail == 1.0  # not soft art


@pytest.mark.usefixtures("second_engines")
def test_moods_and_styles_are_the_named_engines_own() -> None:
    with pytest.raises(SpecError) as caught:
        _board(music={"engine": "fake", "mood": "lofi"})  # a procedural mood, not the fake's
    assert "music.mood" in caught.value.message and "lofi" in caught.value.message
    with pytest.raises(SpecError) as caught:
        _board(visual_engine="flat", scenes=[{"narration": "Hi.", "visual": "bokeh"}])
    assert "visual.style" in caught.value.message
    assert _board(music={"mood": "lofi"}).music.engine == "procedural"


def test_an_unknown_engine_is_a_spec_error_naming_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        _board(music={"engine": "orchestra"}, visual_engine="dalle")
    message = caught.value.message
    assert "music.engine" in message and "orchestra" in message
    assert "visual_engine" in message and "dalle" in message


def test_registry_get_checks_the_contract() -> None:
    registry.register("music", "not-music", FlatVisuals)
    try:
        with pytest.raises(EngineUnavailable, match="music contract"):
            registry.get("music", "not-music")
    finally:
        registry.AVAILABLE_ENGINES["music"].pop("not-music", None)
