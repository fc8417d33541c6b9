"""Scripts, storyboards and templates: parsing, loading, path checks and teaching errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reelforge.errors import MediaError, SpecError
from reelforge.spec.load import load_spec, resolve_paths, storyboard_schema
from reelforge.spec.model import Storyboard
from reelforge.spec.parse import (
    MAX_SCENE_WORDS,
    build_storyboard,
    fit_scenes,
    split_sentences,
    storyboard_from_text,
    word_count,
)
from reelforge.spec.templates import (
    TEMPLATES,
    Template,
    get_template,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# --- Markdown and text ------------------------------------------------------------------------


def test_markdown_headings_become_scenes() -> None:
    board = storyboard_from_text(
        "# Grand opening\n\n## Welcome\nCome **in**, see [our menu](http://x.y).\n\n"
        "More text for the same scene.\n\n## Goodbye\nSee you *soon*!\n"
    )
    assert board.title == "Grand opening"
    assert [s.title for s in board.scenes] == ["Welcome", "Goodbye"]
    assert board.scenes[0].narration == "Come in, see our menu. More text for the same scene."
    assert board.scenes[1].narration == "See you soon!"


def test_text_before_first_heading_is_its_own_scene() -> None:
    board = storyboard_from_text("# T\n\nAn intro.\n\n## One\nFirst.\n")
    pairs = [(s.title, s.narration) for s in board.scenes]
    assert pairs == [(None, "An intro."), ("One", "First.")]


def test_only_top_level_headings_are_all_scenes() -> None:
    board = storyboard_from_text("# One\nFirst.\n\n# Two\nSecond.\n\n```\n# not a heading\n```\n")
    assert board.title == ""
    assert [(s.title, s.narration) for s in board.scenes] == [("One", "First."), ("Two", "Second.")]


def test_paragraphs_become_scenes_without_headings() -> None:
    board = storyboard_from_text("First scene here.\nStill the first.\n\n\nSecond scene.\n")
    assert [s.narration for s in board.scenes] == [
        "First scene here. Still the first.",
        "Second scene.",
    ]
    assert board.title == ""


def test_markdown_decoration_is_not_narrated() -> None:
    board = storyboard_from_text(
        "## Menu\n> Our _favourites_:\n\n- Couscous\n- Tajine!\n1. `Mint` tea\n"
        "<!-- a note for the editor -->\nsnake_case_name stays. ~~old~~ <br> done\n"
    )
    text = board.scenes[0].narration
    assert text == "Our favourites: Couscous. Tajine! Mint tea. snake_case_name stays. old done"


def test_image_inside_scene_becomes_its_visual() -> None:
    board = storyboard_from_text(
        '## Room\n![The dining room](img/room.jpg "caption")\nOur room.\n\n'
        "## Clip\n![](<my clips/kitchen.mp4>) The kitchen.\n\n## Plain\nNo picture.\n"
    )
    first, second, third = board.scenes
    assert first.visual is not None and first.visual.type == "image"
    assert first.visual.path == "img/room.jpg" and first.narration == "Our room."
    assert second.visual is not None and second.visual.type == "video"
    assert second.visual.path == "my clips/kitchen.mp4"
    assert third.visual is None


def test_image_only_paragraph_illustrates_the_next_one() -> None:
    board = storyboard_from_text("![](a.png)\n\nFirst.\n\nSecond.\n\n![](b.png)\n")
    assert [s.narration for s in board.scenes] == ["First.", "Second."]
    assert [s.visual.path if s.visual else None for s in board.scenes] == ["a.png", "b.png"]


def test_front_matter_sets_fields_and_overrides_win() -> None:
    text = "---\ntemplate: restaurant\nformat: 9:16\nvoice: fr-adult-male\n---\nBonjour.\n"
    board = storyboard_from_text(text)
    assert (board.template, board.format, board.voice) == ("restaurant", "9:16", "fr-adult-male")
    board = storyboard_from_text(text, format="square", voice=None, title="Given")
    assert board.format == "1:1" and board.voice == "fr-adult-male" and board.title == "Given"


def test_front_matter_syntax_error_names_the_line() -> None:
    with pytest.raises(SpecError, match="at line 3"):
        storyboard_from_text("---\ntemplate: news\n  format: 9:16\n---\nHello.\n")
    with pytest.raises(SpecError, match="flow sequence started at line 3"):
        storyboard_from_text("---\ntemplate: news\nformat: [oops\n---\nHello.\n")


def test_front_matter_cannot_hold_scenes() -> None:
    with pytest.raises(SpecError, match="scenes"):
        storyboard_from_text("---\nscenes: [a]\n---\nHello.\n")


def test_long_paragraph_is_split_at_sentences() -> None:
    sentences = [f"Sentence number {i} says something short." for i in range(24)]
    board = storyboard_from_text(" ".join(sentences))
    assert len(board.scenes) == 3
    assert all(word_count(s.narration) <= MAX_SCENE_WORDS for s in board.scenes)
    assert all(s.narration.endswith(".") for s in board.scenes)
    assert " ".join(s.narration for s in board.scenes) == " ".join(sentences)


def test_split_scene_keeps_title_once_and_shares_pictures() -> None:
    body = " ".join(f"This is sentence {i} of a long scene." for i in range(20))
    board = storyboard_from_text(f"## Long\n![](a.jpg) ![](b.jpg)\n{body}\n")
    assert [s.title for s in board.scenes] == ["Long", None, None]
    assert [s.visual.path for s in board.scenes if s.visual] == ["a.jpg", "b.jpg", "b.jpg"]


def test_max_scenes_merges_neighbours_evenly() -> None:
    text = "\n\n".join(f"Paragraph {i} has exactly six words." for i in range(10))
    board = storyboard_from_text(text, max_scenes=3)
    assert len(board.scenes) == 3 and board.max_scenes == 3
    assert sorted(s.narration.count("Paragraph") for s in board.scenes) == [3, 3, 4]
    assert board.scenes[0].narration.startswith("Paragraph 0")
    assert board.scenes[-1].narration.endswith("Paragraph 9 has exactly six words.")


def test_fit_scenes_keeps_first_title_and_visual() -> None:
    merged = fit_scenes(
        [{"narration": "a", "title": "One"}, {"narration": "b", "visual": "x.png"}], 1
    )
    assert merged == [{"narration": "a b", "title": "One", "visual": "x.png"}]


@pytest.mark.parametrize("text", ["", "   \n\t\n", "---\ntemplate: news\n---\n", "<!-- x -->"])
def test_empty_script_is_an_error(text: str) -> None:
    with pytest.raises(SpecError, match="the script is empty") as info:
        storyboard_from_text(text)
    assert "sentence" in info.value.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Bonjour M. Dupont. « Ça va ? » Oui. Le prix : 3.5 euros !",
            ["Bonjour M. Dupont.", "« Ça va ? »", "Oui.", "Le prix : 3.5 euros !"],
        ),
        (
            "مرحبا بكم في مطعمنا. هل أنت جائع؟ تفضل۔ نعم",
            ["مرحبا بكم في مطعمنا.", "هل أنت جائع؟", "تفضل۔", "نعم"],
        ),
        ("राम स्कूल गया। वह खुश था।", ["राम स्कूल गया।", "वह खुश था।"]),
        (
            "今日は晴れです。散歩しましょう！いいですか？",
            ["今日は晴れです。", "散歩しましょう！", "いいですか？"],
        ),
        ("Dr. Who arrived. See e.g. the docs.", ["Dr. Who arrived.", "See e.g. the docs."]),
    ],
)
def test_sentence_splitting_across_scripts(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_long_japanese_text_is_split() -> None:
    text = "。".join(["今日はとても良い天気なので公園に行きました"] * 30) + "。"
    board = storyboard_from_text(text)
    assert len(board.scenes) > 1
    assert "".join(s.narration for s in board.scenes) == text  # no spaces added between CJK


def test_hindi_list_items_get_a_danda() -> None:
    board = storyboard_from_text("- पहला\n- दूसरा\n")
    assert board.scenes[0].narration == "पहला। दूसरा।"


# --- validation ---------------------------------------------------------------------------------


def test_bad_field_error_names_the_field() -> None:
    data = {"scenes": ["a", "b", {"narration": "c", "visual": {"style": "waves", "fit": "fill"}}]}
    with pytest.raises(SpecError) as info:
        build_storyboard(data, source="demo.yaml")
    message = str(info.value)
    assert "demo.yaml" in message
    expected = "scenes.2.visual.fit: Input should be 'cover', 'contain' or 'blur' (got 'fill')"
    assert expected in message


def test_union_alternatives_share_one_line_and_empty_scenes_are_explained() -> None:
    with pytest.raises(SpecError) as info:
        build_storyboard({"scenes": [{"visual": {"motion": 5}}]})
    lines = str(info.value).splitlines()
    motion = [line for line in lines if "scenes.0.visual.motion" in line]
    assert len(motion) == 1 and "a valid string, or a valid dictionary" in motion[0]
    assert not any(line.strip().startswith("- scenes:") for line in lines)
    with pytest.raises(SpecError, match="needs at least one scene"):
        build_storyboard({"scenes": []})


def test_unknown_field_suggests_the_close_one() -> None:
    with pytest.raises(
        SpecError,
        match=r"scenes\.0\.narraton: unknown field \(did you mean "
        r"'narration'\?\)",
    ):
        build_storyboard({"scenes": [{"narraton": "hi"}]})


def test_misspelt_names_are_reported_with_suggestions() -> None:
    data = {
        "grade": "warmm",
        "transition": "crossfde",
        "scenes": [{"narration": "x", "visual": {"style": "wavez", "motion": "zoomin"}}],
    }
    with pytest.raises(SpecError) as info:
        build_storyboard(data)
    message = str(info.value)
    for expected in ("'warm'", "'crossfade'", "'waves'", "'zoom-in'"):
        assert expected in message


def test_unknown_template_suggests_a_name() -> None:
    with pytest.raises(SpecError, match="did you mean 'restaurant'") as info:
        storyboard_from_text("Hello.", template="resturant")
    assert "real-estate" in info.value.hint


# --- files --------------------------------------------------------------------------------------


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really media; only existence is checked here")
    return path


def test_yaml_relative_paths_are_resolved(tmp_path: Path) -> None:
    _touch(tmp_path / "media" / "room.jpg")
    _touch(tmp_path / "song.mp3")
    _touch(tmp_path / "logo.png")
    spec = tmp_path / "video.yaml"
    spec.write_text(
        "format: 9:16\nmusic: song.mp3\nwatermark: logo.png\n"
        "scenes:\n  - narration: Hi.\n    visual: media/room.jpg\n  - Bye.\n",
        encoding="utf-8",
    )
    board = load_spec(spec)
    assert board.format == "9:16"
    assert board.scenes[0].visual is not None
    assert board.scenes[0].visual.path == str((tmp_path / "media" / "room.jpg").resolve())
    assert board.music.path == str((tmp_path / "song.mp3").resolve())
    assert board.watermark is not None and Path(board.watermark.path or "").is_absolute()
    assert board.scenes[1].narration == "Bye."


def test_json_load_with_overrides(tmp_path: Path) -> None:
    _touch(tmp_path / "a.png")
    spec = tmp_path / "video.json"
    spec.write_text(json.dumps({"template": "news", "scenes": [{"visual": "a.png"}]}))
    board = load_spec(spec, format="portrait", template=None, resolution=720)
    assert (board.template, board.format, board.resolution) == ("news", "9:16", 720)
    assert board.scenes[0].visual is not None
    assert board.scenes[0].visual.path == str((tmp_path / "a.png").resolve())


def test_markdown_file_images_resolved_against_its_folder(tmp_path: Path) -> None:
    _touch(tmp_path / "pics" / "a.jpg")
    spec = tmp_path / "script.md"
    spec.write_text("## One\n![](pics/a.jpg)\nHello.\n", encoding="utf-8")
    board = load_spec(spec, max_scenes=2)
    assert board.scenes[0].visual is not None
    assert board.scenes[0].visual.path == str((tmp_path / "pics" / "a.jpg").resolve())


def test_missing_image_names_file_and_scene(tmp_path: Path) -> None:
    spec = tmp_path / "video.yaml"
    spec.write_text("scenes:\n  - Hi.\n  - {narration: There., visual: gone.png}\n")
    with pytest.raises(MediaError, match=r"scene 2 image: .*gone\.png not found") as info:
        load_spec(spec)
    assert str(tmp_path.resolve()) in info.value.hint


def test_missing_music_and_urls_are_media_errors(tmp_path: Path) -> None:
    board = Storyboard.model_validate({"music": "nope.wav", "scenes": ["x"]})
    with pytest.raises(MediaError, match="music file"):
        resolve_paths(board, tmp_path)
    board = Storyboard.model_validate({"scenes": [{"visual": "https://example.com/a.jpg"}]})
    with pytest.raises(MediaError, match="URL"):
        resolve_paths(board, tmp_path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("title: x\nscenes:\n  - narration: a\n   bad: [\n")
    with pytest.raises(SpecError, match=r"invalid YAML at line \d"):
        load_spec(spec)


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.json"
    spec.write_text('{\n  "scenes": [\n    "a",\n  ]\n}\n')
    with pytest.raises(SpecError, match="line 4"):
        load_spec(spec)


def test_yaml_list_is_a_list_of_scenes(tmp_path: Path) -> None:
    spec = tmp_path / "list.yml"
    spec.write_text("- One.\n- Two.\n")
    assert [s.narration for s in load_spec(spec).scenes] == ["One.", "Two."]


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unsupported file type"):
        load_spec(tmp_path / "video.docx")
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "example",
    sorted(
        p
        for p in EXAMPLES.iterdir()
        if p.suffix in {".md", ".yaml", ".yml", ".json"} and p.name != "README.md"
    ),
    ids=lambda p: p.name,
)
def test_every_example_loads(example: Path) -> None:
    board = load_spec(example)
    words = sum(word_count(s.narration) for s in board.scenes)
    assert 30 <= words <= 110, "examples should narrate roughly 20-40 seconds"
    get_template(board.template)


def test_examples_cover_the_promised_formats() -> None:
    formats = {p.name: load_spec(p).format for p in EXAMPLES.glob("*.yaml")}
    assert formats["children-story.yaml"] == "9:16"
    assert formats["product-promo.yaml"] == "1:1"


def test_schema_is_json_and_mentions_scenes() -> None:
    schema = storyboard_schema()
    text = json.dumps(schema)
    assert "scenes" in schema["properties"] and "scenes" in schema["required"]
    assert schema["title"] == "reelforge storyboard"
    assert "restaurant" in text


# --- templates ----------------------------------------------------------------------------------


def test_required_templates_exist_and_default_is_used_for_none() -> None:
    wanted = {
        "default",
        "restaurant",
        "real-estate",
        "product-promo",
        "explainer",
        "childrens-story",
        "news",
    }
    assert wanted <= set(TEMPLATES)
    assert get_template(None).name == "default"
    assert get_template(" Real_Estate ").name == "real-estate"
    assert get_template("kids").name == "childrens-story"


def test_templates_are_json_ready_and_frozen() -> None:
    template = get_template("restaurant")
    assert json.loads(json.dumps(template.to_dict()))["cultural_contexts"]["algerian"]
    with pytest.raises(TypeError):
        template.cultural_contexts["algerian"] = ()  # type: ignore[index]
    assert template.motion_for(5) == template.motions[1]


def test_invalid_template_definition_is_rejected() -> None:
    good = get_template("default")
    fields = {**good.to_dict(), "palette": ("#000000",), "grade": "sepia"}
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    with pytest.raises(SpecError, match="palette.*grade 'sepia'"):
        Template(**fields)


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig is not installed")
def test_template_fonts_are_installed() -> None:
    families = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    installed = {name.strip() for line in families.splitlines() for name in line.split(",")}
    missing = {t.title_font for t in TEMPLATES.values()} - installed
    if missing and not installed & {"Noto Sans", "DejaVu Sans"}:
        pytest.skip("this machine has neither Noto nor DejaVu fonts")
    assert not missing


def test_command_line_music_file_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "boards").mkdir()
    board = tmp_path / "boards" / "board.yaml"
    board.write_text("scenes:\n  - Hello there.\n", encoding="utf-8")
    (tmp_path / "song.mp3").write_bytes(b"not checked here")
    monkeypatch.chdir(tmp_path)
    loaded = load_spec(board, music="song.mp3")
    assert loaded.music.path == str((tmp_path / "song.mp3").resolve())
    assert load_spec(board, music="calm").music.mood == "calm"
