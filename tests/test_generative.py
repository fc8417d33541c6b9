"""The generative engines end to end on tiny random-weight models (the `gen` extra).

Each engine's real code runs: the model loads from a local folder saved with
``save_pretrained`` (``local_files_only``), the pipeline is called with the scene's prompt,
seed and size, its output is cached, a clip is fitted to the scene and the storyboard renders
into a preview MP4 that ffprobe checks. The models are a few channels wide (their pictures are
noise): real weights need a GPU and a local copy; see README "Generative visuals".
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import fake_voice  # noqa: F401  (fixture)
from PIL import Image

from reelforge.engines import registry
from reelforge.engines.base import VisualRequest
from reelforge.media.probe import count_frames, decode_frame, probe
from reelforge.pipeline import make
from reelforge.settings import get_settings
from reelforge.spec.parse import build_storyboard

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None,
    reason="torch and diffusers are not installed: pip install 'reelforge[gen]'",
)

FAKE = "fake-adult-male"


def _timed(what: str, seconds: float) -> None:
    """The tiny runs' times, for the report (shown with -s)."""
    print(f"\n  {seconds:6.1f} s  {what}")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import gen_models
    import torch

    torch.set_num_threads(1)  # 2 shared cores: more threads only spin against each other
    root = tmp_path_factory.mktemp("tiny-models")
    started = time.perf_counter()
    models = {
        "image": gen_models.text_to_image(root / "sd"),
        "t2v": gen_models.text_to_video(root / "t2v"),
        "video": gen_models.image_to_video(root / "svd"),
    }
    _timed("building the three tiny models", time.perf_counter() - started)
    return models


@pytest.fixture
def gen_settings(
    tiny_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    for kind, folder in tiny_models.items():
        monkeypatch.setenv(f"REELFORGE_GEN_{kind.upper()}_MODEL", str(folder))
    monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("REELFORGE_GEN_SIZE", "64")
    monkeypatch.setenv("REELFORGE_GEN_STEPS", "2")
    monkeypatch.setenv("REELFORGE_GEN_FRAMES", "4")
    monkeypatch.setenv("REELFORGE_GEN_THREADS", "1")
    monkeypatch.setenv("REELFORGE_GEN_DEVICE", "cpu")
    get_settings.cache_clear()
    registry.reset()
    yield monkeypatch
    get_settings.cache_clear()
    registry.reset()


def _board(engine: str, **fields: Any) -> Any:
    return build_storyboard(
        {
            "title": "Dar El Couscous, Algiers",
            "template": "restaurant",
            "voice": FAKE,
            "resolution": 180,
            "music": "none",
            "visual_engine": engine,
            "seed": 7,
            "scenes": [
                "Couscous rolled by hand every Friday.",
                "Grilled sardines from the port at night.",
            ],
            **fields,
        }
    )


def _render(engine: str, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    started = time.perf_counter()
    result = make(_board(engine), tmp_path / f"{engine}.mp4", preview=True, keep_workdir=True)
    _timed(f"{engine}: 2-scene preview (plan + tiny model + render)", time.perf_counter() - started)
    info = probe(result.video)
    timeline = result.timeline
    assert (info.width, info.height) == (320, 180) and info.video_codec == "h264"
    assert count_frames(result.video) == timeline.frames
    assert abs(info.duration_ms - timeline.frames * 1000 / timeline.fps) <= 1000 / timeline.fps
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["engines"]["visuals"]["name"] == engine
    assert manifest["engines"]["visuals"]["version"].startswith("diffusers 0.")
    return result, manifest


def _picture_band(video: Path, timeline: Any, clip_index: int) -> np.ndarray[Any, Any]:
    clip = timeline.clips[clip_index]
    middle = (clip.start + clip.frames // 2) / timeline.fps
    return decode_frame(video, middle)


@pytest.mark.usefixtures("fake_voice")
def test_text_to_image_scenes_render_into_a_preview(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, manifest = _render("sd-image", tmp_path)
    timeline = result.timeline
    for clip in timeline.clips:
        (layer,) = clip.layers
        assert layer.kind == "image" and layer.fit == "cover"
        assert Image.open(layer.path).size == (64, 64)  # 16:9 at the model's 64 px, cover-fitted
    frame = _picture_band(result.video, timeline, 0)
    assert frame.shape == (180, 320, 3) and frame.std() > 3, "the generated picture is missing"
    pictures = [scene["picture"] for scene in manifest["scenes"]]
    assert all(p.startswith("sd-image") for p in pictures)


@pytest.mark.usefixtures("fake_voice")
def test_a_storyboard_character_is_kept_by_image_to_image(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sheet = tmp_path / "maya.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (96, 64, 3), np.uint8)).save(sheet)
    board = _board(
        "sd-image", character={"description": "a little girl with a red scarf", "image": str(sheet)}
    )
    result = make(board, tmp_path / "maya.mp4", preview=True, keep_workdir=True)
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    pictures = [scene["picture"] for scene in manifest["scenes"]]
    assert all("a little girl with a red scarf" in p for p in pictures)
    for clip in result.timeline.clips:
        (layer,) = clip.layers
        assert Image.open(layer.path).size == (64, 64)
    assert probe(result.video).width == 320


def test_text_to_image_prompts_seeds_cache_and_batches(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = registry.get("visuals", "sd-image")
    request = VisualRequest(320, 180, 2000, prompt="a bowl of couscous", seed=5,
                            negative_prompt="blurry")  # fmt: skip
    started = time.perf_counter()
    first = engine.generate(request, tmp_path / "a")
    _timed("sd-image: one 64x64 picture, 2 steps", time.perf_counter() - started)
    assert first.extras["cached"] == "no" and first.extras["size"] == "64x64"
    again = engine.generate(request, tmp_path / "b")
    assert again.extras["cached"] == "yes"
    pixels = [np.asarray(Image.open(r.layers[0].path)) for r in (first, again)]
    assert np.array_equal(*pixels)
    other = engine.generate(VisualRequest(320, 180, 2000, prompt="a bowl of couscous", seed=6),
                            tmp_path / "c")  # fmt: skip
    assert not np.array_equal(pixels[0], np.asarray(Image.open(other.layers[0].path)))
    # a batch of scenes in one call gives each scene the picture it gets alone (own generator)
    prepare = engine.prepare  # type: ignore[attr-defined]
    gen_settings.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "fresh-cache"))
    get_settings.cache_clear()
    batch = [
        VisualRequest(320, 180, 2000, prompt=p, seed=5, negative_prompt="blurry")
        for p in ("a bowl of couscous", "a grill")
    ]
    made = prepare(batch, tmp_path / "batch")
    assert [facts["cached"] for _, facts in made] == ["no", "no"]
    batched = np.asarray(Image.open(made[0][0])).astype(int)
    assert np.abs(batched - pixels[0]).max() <= 2  # the same picture, to float rounding
    # a reference picture is kept by image-to-image
    reference = tmp_path / "reference.png"
    Image.new("RGB", (64, 64), (200, 40, 40)).save(reference)
    kept = engine.generate(
        VisualRequest(320, 180, 2000, prompt="a bowl", seed=5, reference_image=reference),
        tmp_path / "d",
    )
    assert Image.open(kept.layers[0].path).size == (64, 64)
    assert kept.extras["reference"] == "reference.png" and first.extras["reference"] == ""


@pytest.mark.usefixtures("fake_voice")
def test_text_to_video_scenes_render_into_a_preview(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, manifest = _render("t2v-video", tmp_path)
    timeline = result.timeline
    for clip in timeline.clips:
        (layer,) = clip.layers
        assert layer.kind == "video" and layer.fit == "cover" and not layer.loop
        fitted = probe(Path(layer.path))
        # 4 frames at 8 fps (0.5 s) fitted to the whole clip: back and forth, not frozen
        assert fitted.duration_ms >= clip.frames * 1000 / timeline.fps - 50
    pictures = [scene["picture"] for scene in manifest["scenes"]]
    assert "moonlit" in pictures[1] and "moonlit" not in pictures[0]  # the prompts, explained
    assert all("zellige tiles" in p for p in pictures)  # the title names Algiers
    assert _picture_band(result.video, timeline, 1).std() > 3


def test_text_to_image_loads_flux_by_its_model_index(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """FLUX.1-schnell's class (a transformer, CLIP + T5) through the same engine code, with its
    family's defaults: 4 steps and no guidance (so no negative prompt) for a "schnell" model."""
    import gen_models

    started = time.perf_counter()
    folder = gen_models.text_to_image_flux(tmp_path / "tiny-flux-schnell")
    gen_settings.setenv("REELFORGE_GEN_IMAGE_MODEL", str(folder))
    gen_settings.delenv("REELFORGE_GEN_STEPS")
    gen_settings.setenv("REELFORGE_GEN_SIZE", "128")
    get_settings.cache_clear()
    engine = registry.get("visuals", "sd-image")
    requests = [VisualRequest(180, 320, 2000, prompt=p, seed=4) for p in ("a bowl", "a grill")]
    made = engine.prepare(requests, tmp_path / "scenes")  # type: ignore[attr-defined]
    _timed(
        "sd-image (FLUX class): build + 2 pictures 64x128, 4 steps", time.perf_counter() - started
    )
    assert [facts["steps"] for _, facts in made] == ["4", "4"]
    pictures = [Image.open(path) for path, _ in made]
    assert [p.size for p in pictures] == [(64, 128), (64, 128)]  # portrait kept
    assert not np.array_equal(*(np.asarray(p) for p in pictures))


@pytest.mark.parametrize(
    ("family", "builder"),
    [("LTX-Video", "text_to_video_ltx"), ("CogVideoX", "text_to_video_cogvideox")],
)
def test_text_to_video_loads_other_pipeline_classes_by_their_model_index(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path, family: str, builder: str
) -> None:
    """Transformer video models (T5 prompts, causal video VAEs) through the same engine code:
    the class and its defaults come from the folder's model_index.json."""
    import gen_models

    started = time.perf_counter()
    folder = getattr(gen_models, builder)(tmp_path / family)
    gen_settings.setenv("REELFORGE_GEN_T2V_MODEL", str(folder))
    gen_settings.setenv("REELFORGE_GEN_FRAMES", "9")  # both make 4k+1 / 8k+1 frames
    get_settings.cache_clear()
    made = registry.get("visuals", "t2v-video").generate(
        VisualRequest(320, 180, 2000, prompt="a fish on a grill", seed=3, negative_prompt="blurry"),
        tmp_path / "scene",
    )
    _timed(f"t2v-video ({family} class): build + 9 frames 64x32, 2 steps",
           time.perf_counter() - started)  # fmt: skip
    assert made.video is not None and made.extras["frames"] == "9"
    assert made.extras["size"] == "64x32"  # 16:9, multiples of 32
    assert probe(made.video).duration_ms == pytest.approx(2000, abs=60)
    assert decode_frame(made.video, 0.05).shape == (32, 64, 3)


@pytest.mark.usefixtures("fake_voice")
def test_image_to_video_animates_a_generated_or_given_picture(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result, _ = _render("svd-video", tmp_path)
    (layer,) = result.timeline.clips[0].layers
    assert layer.kind == "video" and count_frames(Path(layer.path)) >= 24
    engine = registry.get("visuals", "svd-video")
    reference = tmp_path / "user.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (90, 160, 3), np.uint8)).save(
        reference
    )
    started = time.perf_counter()
    made = engine.generate(
        VisualRequest(320, 180, 3000, prompt="", seed=1, reference_image=reference), tmp_path / "u"
    )
    _timed("svd-video: 4 frames 64x64 from a user picture, 2 steps", time.perf_counter() - started)
    assert made.video is not None and made.extras["picture"] == str(reference)
    assert probe(made.video).duration_ms == pytest.approx(3000, abs=60)


@pytest.mark.usefixtures("fake_voice")
def test_image_to_video_animates_the_storyboards_own_pictures(
    gen_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    photo = tmp_path / "terrace.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (120, 90, 3), np.uint8)).save(photo)
    board = _board(
        "svd-video",
        scenes=[{"narration": "Our terrace at sunset.", "visual": str(photo)}],
    )
    result = make(board, tmp_path / "animated.mp4", preview=True, keep_workdir=True)
    (layer,) = result.timeline.clips[0].layers
    assert layer.kind == "video" and layer.path != str(photo)  # animated, not shown as is
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["scenes"][0]["picture"].startswith("svd-video (animating terrace.png)")
    assert probe(result.video).width == 320


@pytest.mark.gpu
@pytest.mark.usefixtures("fake_voice")
def test_text_to_image_and_video_on_cuda(gen_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device (this torch is the CPU build, or there is no GPU)")
    gen_settings.setenv("REELFORGE_GEN_DEVICE", "cuda")
    gen_settings.setenv("REELFORGE_GEN_THREADS", "0")
    get_settings.cache_clear()
    for engine in ("sd-image", "t2v-video", "svd-video"):
        _render(engine, tmp_path)
        made = registry.get("visuals", engine).generate(
            VisualRequest(320, 180, 2000, prompt="a bowl of couscous", seed=9), tmp_path / engine
        )
        assert made.extras["device"] == "cuda"
