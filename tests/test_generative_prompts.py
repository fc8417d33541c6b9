"""What the generative engines are given and how their clips are fitted, without torch: the
prompt builder (scene text, template keywords, cultural context, content rules, negative
prompt), the clip fitting, and the clear errors when the extra or a model is missing."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelforge.engines import registry
from reelforge.engines.base import VisualRequest
from reelforge.engines.visuals import diffusion
from reelforge.errors import EngineUnavailable, SpecError
from reelforge.plan.layout import Canvas, generative_request
from reelforge.plan.prompts import culture_of, scene_prompt
from reelforge.settings import get_settings
from reelforge.spec.parse import build_storyboard
from reelforge.spec.templates import get_template


def test_the_scene_leads_then_culture_then_template_keywords() -> None:
    built = scene_prompt(
        get_template("restaurant"),
        narration="Our couscous is rolled by hand every Friday.",
        story="A restaurant in Algiers. Our couscous is rolled by hand every Friday.",
    )
    assert built.prompt.startswith("Our couscous is rolled by hand every Friday, ")
    assert (built.culture, built.culture_why) == ("algerian", "algiers")
    zellige = built.prompt.index("zellige tiles and Moorish arches")
    food = built.prompt.index("appetising food photography")
    assert len("Our couscous") < zellige < food  # culture before the template's style words
    assert "blurry" in built.negative and "watermark" in built.negative


def test_each_culture_reads_its_own_context() -> None:
    restaurant = get_template("restaurant")
    indian = scene_prompt(restaurant, narration="Dinner in Mumbai tonight.")
    assert indian.culture == "indian" and "tandoor oven glow" in indian.prompt
    french = scene_prompt(restaurant, narration="Un bistro à Paris.", language="fr")
    assert french.culture == "french" and "Parisian bistro" in french.prompt
    # Hindi alone suggests India when no place is named; a culture the template lacks adds none
    assert culture_of("कहानी", "hi") == ("indian", "language hi")
    plain = scene_prompt(get_template("podcast"), narration="Welcome to Algiers.")
    assert (
        plain.culture == "algerian" and "Algiers" in plain.prompt and "zellige" not in plain.prompt
    )
    assert scene_prompt(restaurant, narration="Fresh bread.").culture == ""


@pytest.mark.parametrize(
    ("text", "language", "rule", "added"),
    [
        ("The children play in the square.", "en", "children", "colourful, cheerful"),
        ("Les enfants jouent.", "fr", "children", "children's book style"),
        ("Under the moon, the village sleeps.", "en", "night", "moonlit"),
        ("La nuit tombe sur le port.", "fr", "night", "night time"),
        ("रात को चाँद निकला।", "hi", "night", "moonlit"),
        ("Maya discovered a magical tree in the forest.", "en", "nature", "lush nature"),
        ("غابة كبيرة", "ar", "nature", "detailed environment"),
    ],
)
def test_content_rules_of_the_origin_documents(
    text: str, language: str, rule: str, added: str
) -> None:
    built = scene_prompt(get_template("default"), narration=text, language=language)
    assert rule in built.rules and added in built.prompt


def test_childrens_template_is_colourful_and_never_scary() -> None:
    built = scene_prompt(get_template("childrens-story"), narration="Maya found a butterfly.")
    assert "children" in built.rules and "colourful" in built.prompt
    assert "scary" in built.negative and "gore" in built.negative
    video = scene_prompt(get_template("default"), narration="A wave.", video=True)
    assert "flickering" in video.negative and "scary" not in video.negative


def test_a_visual_prompt_replaces_the_narration_and_long_text_is_cut() -> None:
    template = get_template("restaurant")
    built = scene_prompt(template, narration="We open at noon.", visual_prompt="a clay tajine")
    assert built.prompt.startswith("a clay tajine") and "noon" not in built.prompt
    long = scene_prompt(template, narration=" ".join(f"word{i}" for i in range(200)))
    assert len(long.prompt.split()) <= 60  # CLIP reads 77 tokens
    assert "word31" in long.prompt and "word32" not in long.prompt


def test_planning_gives_every_scene_one_seed_and_its_own_prompt(tmp_path: Path) -> None:
    board = build_storyboard(
        {
            "title": "Dar El Couscous, Algiers",
            "template": "restaurant",
            "visual_engine": "sd-image",
            "seed": 3,
            "scenes": ["Couscous rolled by hand.", {"narration": "Grilled sardines at night."}],
        }
    )
    canvas = Canvas(320, 180, 30, tmp_path)
    template = get_template("restaurant")
    first, second = (generative_request(board, template, canvas, i, 2000, "en") for i in (0, 1))
    assert first.seed == second.seed == 3 * 1009  # one character and look across scenes
    assert first.prompt.startswith("Couscous rolled by hand, ")
    assert "zellige tiles" in first.prompt  # the title names Algiers for every scene
    assert "moonlit" in second.prompt and "moonlit" not in first.prompt
    assert first.negative_prompt and (first.width, first.height) == (320, 180)


def test_a_storyboard_character_joins_every_prompt_and_is_the_reference(tmp_path: Path) -> None:
    from PIL import Image

    from reelforge.kinds.video import VideoRequest, media_fields, with_media
    from reelforge.spec.load import load_spec

    Image.new("RGB", (64, 96), (200, 40, 40)).save(tmp_path / "maya.png")
    (tmp_path / "story.yaml").write_text(
        "template: childrens-story\nvisual_engine: sd-image\n"
        "character: {description: a little girl with a red scarf, image: maya.png}\n"
        "scenes:\n  - Maya found a butterfly.\n  - The moon rose over the village.\n",
        encoding="utf-8",
    )
    board = load_spec(tmp_path / "story.yaml")
    assert board.character is not None and board.character.image == str(tmp_path / "maya.png")
    template = get_template("childrens-story")
    canvas = Canvas(320, 180, 30, tmp_path)
    requests = [generative_request(board, template, canvas, i, 2000, "en") for i in (0, 1)]
    for request in requests:
        assert "a little girl with a red scarf" in request.prompt
        assert request.reference_image == tmp_path / "maya.png"
    assert requests[0].prompt.startswith("Maya found a butterfly, a little girl with a red scarf")
    # the service sees the picture as one more upload field, renamed like the others
    video = VideoRequest(storyboard=board)
    assert [f.field for f in media_fields(video)] == ["character.image"]
    renamed = with_media(video, lambda path: "/uploads/x.png")
    assert renamed.storyboard.character is not None
    assert renamed.storyboard.character.image == "/uploads/x.png"
    # shorthands: words, or a picture file
    words_only = build_storyboard({"character": "a grey cat", "scenes": ["Hello."]})
    assert words_only.character is not None and words_only.character.description == "a grey cat"
    picture = build_storyboard({"character": "cat.png", "scenes": ["Hello."]})
    assert picture.character is not None and picture.character.image == "cat.png"


# --------------------------------------------------------------------------- clip fitting


def test_a_short_clip_is_slowed_then_played_back_and_forth() -> None:
    # 14 frames at 7 fps = 2 s; a 6 s scene: auto slows 2x (4 s) then turns back
    positions = diffusion.fit_positions(14, 7, 6000, "auto")
    assert len(positions) == 6 * diffusion.OUTPUT_FPS
    steps = np.diff(positions)
    assert np.all(np.abs(steps) <= 7 / 24 / 2 + 1e-9)  # half speed, no jump anywhere
    assert np.median(np.abs(steps)) == pytest.approx(7 / 24 / 2)
    assert np.any(steps < 0)  # it turned back
    assert max(positions) == pytest.approx(13, abs=0.2) and min(positions) == 0
    slow = diffusion.fit_positions(14, 7, 6000, "slow")  # stretched over the whole scene
    assert np.all(np.diff(slow) >= 0) and slow[-1] == pytest.approx(13, abs=0.2)
    hold = diffusion.fit_positions(14, 7, 6000, "hold")
    assert hold[-1] == 13 and hold.count(13.0) > 24  # held for its last 4 s
    loop = diffusion.fit_positions(14, 7, 6000, "loop")
    assert np.all(np.abs(np.diff(loop)) <= 7 / 24 + 1e-9)  # natural speed, back and forth
    assert np.median(np.abs(np.diff(loop))) == pytest.approx(7 / 24)
    assert diffusion.fit_positions(14, 7, 1000, "auto")[-1] < 13  # longer than the scene: cut
    with pytest.raises(SpecError, match="REELFORGE_GEN_FIT"):
        diffusion.fit_positions(14, 7, 1000, "bounce")


def test_fitted_frames_blend_neighbours() -> None:
    frames = np.stack([np.full((2, 2, 3), v, np.uint8) for v in (0, 100, 200)])
    out = diffusion.fitted_frames(frames, [0.0, 0.5, 1.0, 1.75, 2.0])
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 175, 200]


def test_a_given_picture_is_cropped_not_squashed() -> None:
    from PIL import Image

    # a portrait photo, left half red, right half blue: a landscape crop keeps its middle
    photo = np.zeros((200, 100, 3), np.uint8)
    photo[:, :50] = (255, 0, 0)
    photo[:, 50:] = (0, 0, 255)
    out = np.asarray(diffusion.cover(Image.fromarray(photo), 64, 32))
    assert out.shape == (32, 64, 3)
    assert out[16, 2, 0] > 200 and out[16, 61, 2] > 200  # both halves kept, side by side


def test_generation_size_keeps_the_aspect_ratio() -> None:
    assert diffusion.generation_size(1920, 1080, 1024) == (1024, 576)
    assert diffusion.generation_size(1080, 1920, 512) == (256, 512)
    assert diffusion.generation_size(320, 180, 64) == (64, 64)


# --------------------------------------------------------------------------- unavailable


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("IMAGE", "VIDEO", "T2V"):
        monkeypatch.delenv(f"REELFORGE_GEN_{name}_MODEL", raising=False)
    get_settings.cache_clear()
    registry.reset()
    yield monkeypatch
    get_settings.cache_clear()
    registry.reset()


@pytest.mark.parametrize(
    ("engine", "setting"),
    [
        ("sd-image", "REELFORGE_GEN_IMAGE_MODEL"),
        ("svd-video", "REELFORGE_GEN_VIDEO_MODEL"),
        ("t2v-video", "REELFORGE_GEN_T2V_MODEL"),
    ],
)
def test_a_missing_model_names_its_setting(
    clean_settings: pytest.MonkeyPatch, tmp_path: Path, engine: str, setting: str
) -> None:
    request = VisualRequest(320, 180, 2000, prompt="a bowl of couscous")
    with pytest.raises(EngineUnavailable) as empty:
        diffusion.model_folder(diffusion.settings_for(setting.lower()[len("reelforge_") :]))
    assert setting in empty.value.message and setting in empty.value.hint
    clean_settings.setenv(setting, str(tmp_path / "no-such-model"))
    get_settings.cache_clear()
    info = registry.get("visuals", engine).info()
    assert not info.available and setting in info.reason
    pytest.importorskip("diffusers", reason="the rest needs the gen extra")
    with pytest.raises(EngineUnavailable, match="does not exist") as missing:
        registry.get("visuals", engine).generate(request, tmp_path)
    assert setting in missing.value.hint
    (tmp_path / "empty").mkdir()
    clean_settings.setenv(setting, str(tmp_path / "empty"))
    get_settings.cache_clear()
    with pytest.raises(EngineUnavailable, match="model_index.json"):
        registry.get("visuals", engine).generate(request, tmp_path)


def test_a_hub_id_missing_from_the_cache_is_not_downloaded(
    clean_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("huggingface_hub")
    clean_settings.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    clean_settings.setenv("HF_HUB_OFFLINE", "1")
    settings = diffusion.GenSettings(model="stabilityai/sdxl-turbo", setting="REELFORGE_X")
    with pytest.raises(EngineUnavailable, match="not in the local Hugging Face cache"):
        diffusion.model_folder(settings)


def test_without_torch_the_engine_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("torch", "diffusers"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(EngineUnavailable) as caught:
        diffusion.require_torch()
    assert caught.value.hint == "install the generative extra: pip install 'reelforge[gen]'"


def test_importing_reelforge_and_the_engines_loads_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, reelforge\n"
        "from reelforge.engines import registry\n"
        "for name in ('sd-image', 'svd-video', 't2v-video'):\n"
        "    registry.get('visuals', name).styles()\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_storyboard_with_an_unconfigured_engine_fails_before_any_voice_work(
    clean_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from reelforge.plan import plan

    board = build_storyboard({"visual_engine": "t2v-video", "scenes": ["A wave."]})
    with pytest.raises(EngineUnavailable, match="REELFORGE_GEN_T2V_MODEL") as caught:
        plan(board, tmp_path, preview=True, cache_dir=tmp_path / "cache")
    assert "visual_engine: illustrated" in caught.value.hint
    assert not (tmp_path / "cache").exists()  # no voice was synthesised


def test_each_engine_checks_its_request_before_loading_a_model(tmp_path: Path) -> None:
    """The shared checks say what each engine needs: a prompt, a clip's duration, a picture
    that exists (svd-video animates one in place of a prompt; t2v-video reads none)."""
    sd, svd, t2v = (registry.get("visuals", n) for n in ("sd-image", "svd-video", "t2v-video"))
    with pytest.raises(SpecError, match="out of range"):
        sd.check_inputs(VisualRequest(8, 8, 2000, prompt="a bowl"))
    with pytest.raises(SpecError, match="a generated picture needs a prompt"):
        sd.check_inputs(VisualRequest(320, 180, 2000))
    with pytest.raises(SpecError, match="a generated clip needs a prompt"):
        t2v.check_inputs(VisualRequest(320, 180, 2000))
    with pytest.raises(SpecError, match="needs a duration"):
        t2v.check_inputs(VisualRequest(320, 180, 0, prompt="a bowl"))
    with pytest.raises(SpecError, match="a generated clip needs a picture or a prompt"):
        svd.check_inputs(VisualRequest(320, 180, 2000))
    missing = VisualRequest(320, 180, 2000, prompt="a bowl", reference_image=tmp_path / "no.png")
    for engine in (sd, svd):
        with pytest.raises(SpecError, match="does not exist"):
            engine.check_inputs(missing)
    t2v.check_inputs(missing)
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"")
    svd.check_inputs(VisualRequest(320, 180, 2000, reference_image=picture))
