"""Stories from a picture: the BLIP captioning adapter, run end to end on a tiny random-weight
model built here (the ``gen`` extra; skipped without torch), and its errors without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from reelforge import cli
from reelforge.engines import registry
from reelforge.errors import EngineUnavailable, MediaError
from reelforge.settings import get_settings
from reelforge.writer import describe_image

WORDS = [
    *("a", "photo", "of", "the", "bowl", "with", "couscous", "fish"),
    *("on", "table", "grill", "fire", "market", "street", "people"),
]


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("REELFORGE_GEN_DEVICE", "cpu")
    monkeypatch.delenv("REELFORGE_LLM_ENDPOINT", raising=False)
    get_settings.cache_clear()
    registry.reset()
    yield
    get_settings.cache_clear()
    registry.reset()


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BlipForConditionalGeneration with random weights and a 20-word vocabulary, saved with
    its processor the way a real model folder is."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("blip")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", *WORDS]))
    tokenizer = transformers.BertTokenizer(str(vocab), do_lower_case=True)
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    pictures = transformers.BlipImageProcessor(size={"height": 32, "width": 32})
    processor = transformers.BlipProcessor(image_processor=pictures, tokenizer=tokenizer)
    layers = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    config = transformers.BlipConfig(
        text_config={
            **layers,
            "vocab_size": len(WORDS) + 6,
            "intermediate_size": 37,
            "max_position_embeddings": 64,
            "bos_token_id": 5,
            "pad_token_id": 0,
            "sep_token_id": 3,
            "eos_token_id": 3,
        },
        vision_config={**layers, "image_size": 32, "patch_size": 8, "intermediate_size": 37},
        projection_dim=32,
    )
    torch.manual_seed(0)
    transformers.BlipForConditionalGeneration(config).save_pretrained(folder / "model")
    processor.save_pretrained(folder / "model")
    return folder / "model"


def _photo(path: Path, size: tuple[int, int] = (96, 64)) -> Path:
    Image.new("RGB", size, (200, 120, 40)).save(path, "JPEG")
    return path


def test_without_a_model_the_captioner_says_what_to_set(tmp_path: Path) -> None:
    info = registry.get("captioner", "blip").info()
    assert not info.available and "REELFORGE_CAPTION_MODEL" in info.reason
    with pytest.raises(EngineUnavailable) as missing:
        describe_image(_photo(tmp_path / "p.jpg"))
    assert "REELFORGE_CAPTION_MODEL" in (missing.value.hint or "")
    code = cli.main(["write", "--from-image", str(tmp_path / "p.jpg")])
    assert code == EngineUnavailable.exit_code


def test_a_folder_that_is_not_a_model_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFORGE_CAPTION_MODEL", str(tmp_path))
    get_settings.cache_clear()
    info = registry.get("captioner", "blip").info()
    assert not info.available and "config.json" in info.reason


def test_tiny_blip_describes_a_picture_end_to_end(
    tiny_blip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFORGE_CAPTION_MODEL", str(tiny_blip))
    get_settings.cache_clear()
    assert registry.get("captioner", "blip").info().available
    said = describe_image(_photo(tmp_path / "dish.jpg", (1600, 1200)))
    assert said and all(word in WORDS for word in said.lower().split())  # random, but its words


def test_write_from_an_image_drafts_a_script_from_what_it_shows(
    tiny_blip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REELFORGE_CAPTION_MODEL", str(tiny_blip))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    photo = _photo(tmp_path / "shop.jpg")
    idea = "a promo for my restaurant"
    code = cli.main(["write", idea, "--from-image", str(photo), "--engine", "rule-based",
                     "-o", "script.md"])  # fmt: skip
    assert code == 0
    seen = capsys.readouterr().err
    assert "seen: " in seen
    assert (tmp_path / "script.md").read_text("utf-8").strip()


def test_a_picture_bomb_is_refused_before_the_model_loads(
    tiny_blip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFORGE_CAPTION_MODEL", str(tiny_blip))
    get_settings.cache_clear()
    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(bomb)  # 81 MP, tiny on disk
    with pytest.raises(MediaError):
        describe_image(bomb)
    not_a_picture = tmp_path / "notes.jpg"
    not_a_picture.write_text("hello")
    with pytest.raises(MediaError):
        describe_image(not_a_picture)
