"""The media library: the user's own pictures and clips indexed and matched to scenes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import reelforge
from reelforge.errors import MediaError, SpecError
from reelforge.plan import library
from reelforge.spec.model import Storyboard
from reelforge.text import meaning


@pytest.fixture
def shop(tmp_path: Path, tmp_media) -> Path:
    folder = tmp_path / "shop"
    tmp_media.make_image(folder / "couscous-bowl.jpg", (320, 180))
    tmp_media.make_image(folder / "grilled_sardines.png", (320, 180))
    tmp_media.make_image(folder / "portrait-chef.jpg", (180, 320))
    (folder / "portrait-chef.txt").write_text("Our chef Amina in the kitchen", "utf-8")
    tmp_media.make_image(folder / "IMG_0042.jpg", (320, 180))  # words only in its EXIF
    with Image.open(folder / "IMG_0042.jpg") as image:
        exif = image.getexif()
        exif[270] = "Mint tea on the terrace"
        exif[0x9C9E] = "teapot;terrace".encode("utf-16-le")
        image.save(folder / "IMG_0042.jpg", exif=exif)
    tmp_media.make_video(folder / "sub" / "harbour-boats.mp4", 1, with_audio=False)
    return folder


def board(*scenes: dict[str, object], library_path: Path, **fields: object) -> Storyboard:
    data = {"scenes": list(scenes), "library": str(library_path), **fields}
    return reelforge.parse_storyboard(data)


def test_the_index_reads_names_sidecars_exif_sizes_and_clips(shop: Path, tmp_path: Path) -> None:
    assets = {Path(a.path).name: a for a in library.index_folder(shop, tmp_path / "cache")}
    assert set(assets) == {
        "couscous-bowl.jpg",
        "grilled_sardines.png",
        "portrait-chef.jpg",
        "IMG_0042.jpg",
        "harbour-boats.mp4",
    }
    assert assets["grilled_sardines.png"].words == ("grilled", "sardines")
    assert {"chef", "amina", "kitchen"} <= set(assets["portrait-chef.jpg"].words)
    assert assets["portrait-chef.jpg"].orientation == "portrait"
    assert {"mint", "tea", "teapot", "terrace"} <= set(assets["IMG_0042.jpg"].words)
    clip = assets["harbour-boats.mp4"]
    assert (clip.kind, clip.width, clip.height, clip.orientation) == (
        "video",
        320,
        180,
        "landscape",
    )
    assert 900 <= clip.duration_ms <= 1100
    # cached: a second index reads the cache; a new file changes the key
    cached = list((tmp_path / "cache" / "library").glob("*.json"))
    assert len(cached) == 1
    (shop / "fresh-bread.txt").write_text("bread", "utf-8")
    library.index_folder(shop, tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "library").glob("*.json"))) == 2


def test_the_cache_is_what_indexing_found(shop: Path, tmp_path: Path) -> None:
    first = library.index_folder(shop, tmp_path / "cache")
    assert library.index_folder(shop, tmp_path / "cache") == first


def test_scenes_get_the_best_unused_asset_and_the_reasons(shop: Path, embeddings: str) -> None:
    sb = board(
        {"title": "Couscous", "narration": "A steaming bowl of couscous every Friday."},
        {"narration": "Sardines grilled over charcoal."},
        {"narration": "More sardines, grilled again."},  # the sardines are taken: no reuse
        {"narration": "Nothing here speaks of the pictures."},
        {"narration": "Du poisson frais.", "visual": str(shop / "couscous-bowl.jpg")},
        library_path=shop,
    )
    matches = {m.scene: m for m in library.choose(sb, library.index_folder(shop))}
    assert Path(matches[0].asset.path).name == "couscous-bowl.jpg"
    assert set(matches[0].matched) == {"couscous", "bowl"}
    assert Path(matches[1].asset.path).name == "grilled_sardines.png"
    assert 2 not in matches and 3 not in matches and 4 not in matches  # 4 has its own picture
    picture = matches[1].picture()
    assert picture["engine"] == "library"
    if embeddings == "none":
        assert "grilled_sardines.png (grilled, sardines)" in picture["matched"]
        assert picture["why"].startswith("score 2.00")
    else:  # the words' 2.00 plus the meaning's points
        assert matches[1].meaning is not None and matches[1].meaning > 0.8
        assert "grilled_sardines.png (grilled, sardines, close in meaning 0.9" in picture["matched"]
        points = library.meaning_points(matches[1].meaning)
        assert picture["why"].startswith(f"score {2.0 + points:.2f}")


def test_words_of_another_language_match_through_the_lexicon(shop: Path, embeddings: str) -> None:
    sb = board({"narration": "Un thé à la menthe sur la terrasse."}, library_path=shop)
    (found,) = library.choose(sb, library.index_folder(shop))
    assert Path(found.asset.path).name == "IMG_0042.jpg"
    assert found.matched == ("menthe~mint",)  # "the" (French thé) is an English stop word


def test_the_output_orientation_is_preferred(shop: Path, tmp_media, embeddings: str) -> None:
    tmp_media.make_image(shop / "chef-landscape.jpg", (320, 180))
    scene = {"narration": "Meet our chef."}
    wide = library.choose(board(scene, library_path=shop), library.index_folder(shop))
    tall = library.choose(
        board(scene, library_path=shop, format="9:16"), library.index_folder(shop)
    )
    assert Path(wide[0].asset.path).name == "chef-landscape.jpg"
    assert Path(tall[0].asset.path).name == "portrait-chef.jpg"
    (shop / "chef-landscape.jpg").unlink()
    (only,) = library.choose(board(scene, library_path=shop), library.index_folder(shop))
    assert not only.orientation_ok and "portrait (blur-fitted)" in only.picture()["why"]
    applied = library.apply(board(scene, library_path=shop), [only])
    assert applied.scenes[0].visual is not None and applied.scenes[0].visual.fit == "blur"


def test_planning_shows_the_matched_media_and_says_why(
    shop: Path, tmp_path: Path, embeddings: str
) -> None:
    sb = board(
        {"title": "Couscous bowl", "duration": 1.0},
        {"title": "Harbour boats at dawn", "duration": 1.0},
        {"title": "Opening hours", "duration": 1.0},
        library_path=shop,
        resolution=180,
        music="none",
    )
    planned = reelforge.plan_video(sb, tmp_path / "work", cache_dir=tmp_path / "cache")
    sources = [[layer.path for layer in c.layers] for c in planned.timeline.clips]
    assert sources[0] == [str(shop / "couscous-bowl.jpg")]
    assert sources[1] == [str(shop / "sub" / "harbour-boats.mp4")]
    assert str(shop) not in " ".join(str(s) for s in sources[2])  # default visuals
    pictures = [scene["picture"] for scene in planned.scenes]
    if embeddings == "none":
        assert pictures[0] == "library: couscous-bowl.jpg (couscous, bowl) (score 3.00)"
    else:
        assert pictures[0].startswith("library: couscous-bowl.jpg (couscous, bowl, close in")
    assert pictures[1].startswith("library: harbour-boats.mp4 (harbour, boats")
    assert not str(pictures[2]).startswith("library")
    assert any(n.startswith("library: 2 of 3 scenes") for n in planned.notes)


def test_a_missing_library_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not found") as caught:
        library.index_folder(tmp_path / "nowhere")
    assert "--library" in caught.value.hint
    script = tmp_path / "script.md"
    script.write_text("# Promo\n\nHello there.\n", "utf-8")
    with pytest.raises(MediaError, match="media library .*nowhere not found"):
        reelforge.load_spec(script, library="nowhere")


def test_the_cli_option_names_a_folder_relative_to_the_user(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "elsewhere" / "script.md"
    script.parent.mkdir()
    script.write_text("# Promo\n\nHello there.\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    assert reelforge.load_spec(script, library="shop").library == str(shop.resolve())


def test_the_service_refuses_a_library_folder(shop: Path) -> None:
    from reelforge.kinds.video import VIDEO
    from reelforge.service.requests import check_media, video_request

    request = video_request({"storyboard": {"scenes": ["Hello."], "library": str(shop)}})
    with pytest.raises(SpecError, match="library: files of this kind cannot be uploaded"):
        check_media(VIDEO, request, None)


def test_meaning_finds_the_pictures_words_miss(
    tmp_path: Path, tmp_media, embeddings: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "own"
    tmp_media.make_image(folder / "beach.jpg", (320, 180))
    tmp_media.make_image(folder / "grilled-sardines.jpg", (320, 180))
    (folder / "grilled-sardines.txt").write_text(
        "Sardines cooked on the charcoal grill at the harbour", "utf-8"
    )
    tmp_media.make_image(folder / "laptop.jpg", (320, 180))
    sb = board(
        {"narration": "Fresh fish cooked over the fire."},
        {"narration": "A lazy afternoon on the sand, listening to the surf."},  # no shared word
        library_path=folder,
    )
    cache = tmp_path / "cache"
    matches = {m.scene: m for m in library.choose(sb, library.index_folder(folder), cache)}
    assert Path(matches[0].asset.path).name == "grilled-sardines.jpg"
    if embeddings == "none":
        assert 1 not in matches
        return
    assert "close in meaning" in matches[0].picture()["matched"]
    beach = matches[1]
    assert Path(beach.asset.path).name == "beach.jpg" and beach.matched == ()
    assert beach.meaning is not None and beach.meaning > 0.5
    assert beach.picture()["matched"] == f"beach.jpg (close in meaning {beach.meaning:.2f})"

    # the assets' vectors are cached: again, only the scenes are embedded; a new file alone
    embedded: list[str] = []
    real = meaning.embed

    def spy(texts: list[str]) -> object:
        embedded.extend(texts)
        return real(texts)

    monkeypatch.setattr(meaning, "embed", spy)
    assert library.choose(sb, library.index_folder(folder), cache) == list(matches.values())
    assert len(embedded) == 2
    tmp_media.make_image(folder / "dog-in-the-park.jpg", (320, 180))
    embedded.clear()
    library.choose(sb, library.index_folder(folder), cache)
    assert embedded[2:] == ["dog park"]
