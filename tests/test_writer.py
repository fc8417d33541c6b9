"""Scripts from an idea: the OpenAI-compatible writer against a local fake server speaking the
documented /v1/chat/completions shape, the offline rule-based writer in five languages, and
`reelforge write` / `make --idea` end to end with fake voices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_server import FakeChatServer, completion
from fakes import fake_voice  # noqa: F401  (fixture)
from servers import free_port

import reelforge
from reelforge import cli
from reelforge.engines import registry
from reelforge.engines.base import WritingRequest
from reelforge.engines.llm.openai_compatible import OpenAICompatibleWriter
from reelforge.engines.llm.rule_based import RuleBasedWriter
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.settings import Settings, get_settings
from reelforge.spec import writing
from reelforge.text.language import detect_language

IDEA = "a 30-second promo for a couscous restaurant in Algiers"


def _scene(title: str, narration: str, prompt: str) -> dict[str, Any]:
    return {"title": title, "narration": narration, "visual": {"prompt": prompt}}


GOOD_ANSWER = {
    "title": "Le goût d'Alger",
    "scenes": [
        _scene(
            "Bienvenue",
            "Envie d'un couscous comme à la maison ? Poussez la porte de notre restaurant.",
            "a cosy Algerian restaurant in Algiers, zellige tiles, warm light",
        ),
        _scene(
            "Fait main",
            "Chaque matin, la semoule est roulée à la main et les légumes viennent du marché.",
            "hands rolling couscous semolina in a wide wooden bowl",
        ),
        _scene(
            "Réservez",
            "Réservez votre table ce soir et venez goûter le vrai couscous d'Alger.",
            "a set table with a steaming couscous dish, candle light",
        ),
    ],
}


def _writer(url: str, **settings: Any) -> OpenAICompatibleWriter:
    return OpenAICompatibleWriter(
        Settings(llm_endpoint=url, llm_model="fake-model", llm_timeout_s=5, **settings)
    )


FRENCH = WritingRequest(idea=IDEA, language="fr", template="restaurant", seconds=30)


# --------------------------------------------------------------------------- OpenAI-compatible


def test_an_invalid_answer_is_asked_again_with_its_problems() -> None:
    too_few = {"title": "Alger", "scenes": GOOD_ANSWER["scenes"][:1]}
    with FakeChatServer([json.dumps(too_few), json.dumps(GOOD_ANSWER)]) as server:
        written = _writer(server.url, llm_api_key="sk-test").write(FRENCH)
    assert written.attempts == 2
    assert written.engine == "openai-compatible" and written.model == "fake-model-1"
    board = reelforge.parse_storyboard(written.storyboard)
    assert [s.title for s in board.scenes] == ["Bienvenue", "Fait main", "Réservez"]
    assert board.language == "fr" and board.template == "restaurant"
    assert board.target_duration == 30
    assert board.scenes[1].visual is not None
    assert board.scenes[1].visual.prompt == "hands rolling couscous semolina in a wide wooden bowl"

    first, second = server.requests
    assert first["model"] == "fake-model"
    assert first["response_format"]["type"] == "json_schema"
    schema = first["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["scenes"]["maxItems"] == 6
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert "French" in first["messages"][0]["content"]
    assert first["messages"][1]["content"] == IDEA
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    # the second request carries the first answer and what was wrong with it
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert "write 3 to 6 scenes, not 1" in second["messages"][3]["content"]


def test_non_json_and_fenced_answers() -> None:
    fenced = "Here you go:\n```json\n" + json.dumps(GOOD_ANSWER) + "\n```"
    with FakeChatServer(["Sure! Here is a lovely script about couscous.", fenced]) as server:
        written = _writer(server.url, llm_response_format="json_object").write(FRENCH)
    assert written.attempts == 2
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    assert "not a JSON object" in server.requests[1]["messages"][3]["content"]


def test_a_narration_in_the_wrong_language_is_refused() -> None:
    english = {
        "title": "Taste of Algiers",
        "scenes": [
            _scene("Welcome", "Come and taste the best couscous in the whole of Algiers.", "x"),
            _scene("Fresh", "Every morning we roll the semolina by hand with our family.", "x"),
            _scene("Book", "Book your table tonight and bring all of your friends with you.", "x"),
        ],
    }
    with FakeChatServer([json.dumps(english), json.dumps(GOOD_ANSWER)]) as server:
        written = _writer(server.url).write(FRENCH)
    assert written.attempts == 2
    assert "write it in French, not English" in server.requests[1]["messages"][3]["content"]


def test_fields_a_model_adds_never_reach_the_storyboard() -> None:
    sneaky = json.loads(json.dumps(GOOD_ANSWER))
    sneaky["music"] = "/etc/passwd.mp3"
    sneaky["scenes"][0]["visual"] = {"prompt": "a bowl", "path": "/home/user/secret.png"}
    with FakeChatServer([json.dumps(sneaky)]) as server:
        written = _writer(server.url).write(FRENCH)
    assert "music" not in written.storyboard
    assert written.storyboard["scenes"][0]["visual"] == {"type": "prompt", "prompt": "a bowl"}
    assert any("music" in note for note in written.notes)


def test_an_answer_that_never_validates_fails_after_the_bounded_attempts() -> None:
    with FakeChatServer(["not json at all"]) as server, pytest.raises(EngineFailed) as caught:
        _writer(server.url, llm_attempts=2).write(FRENCH)
    assert len(server.requests) == 2
    assert "did not validate after 2 attempts" in caught.value.message
    assert "rule-based" in caught.value.hint


def test_a_cut_off_answer_is_asked_again() -> None:
    def cut() -> tuple[int, bytes]:
        return 200, json.dumps(completion('{"title": "Alg', finish="length")).encode()

    with FakeChatServer([cut, json.dumps(GOOD_ANSWER)]) as server:
        assert _writer(server.url).write(FRENCH).attempts == 2
    assert "cut off" in server.requests[1]["messages"][3]["content"]


def test_endpoint_down_timeout_and_refusals_say_what_to_do() -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EngineUnavailable) as caught:
        _writer(down).write(FRENCH)
    assert "cannot reach" in caught.value.message and "rule-based" in caught.value.hint

    with FakeChatServer([json.dumps(GOOD_ANSWER)], delay=1.5) as server:
        writer = OpenAICompatibleWriter(Settings(llm_endpoint=server.url, llm_timeout_s=0.3))
        with pytest.raises(EngineFailed) as slow:
            writer.write(FRENCH)
    assert "did not answer within 0.3 s" in slow.value.message
    assert "REELFORGE_LLM_TIMEOUT_S" in slow.value.hint

    def unauthorised() -> tuple[int, bytes]:
        return 401, b'{"error": {"message": "Incorrect API key provided"}}'

    with FakeChatServer([unauthorised]) as server, pytest.raises(EngineUnavailable) as refused:
        _writer(server.url).write(FRENCH)
    assert "Incorrect API key" in refused.value.message
    assert "REELFORGE_LLM_API_KEY" in refused.value.hint

    with FakeChatServer([json.dumps(GOOD_ANSWER)]) as server, pytest.raises(EngineUnavailable):
        _writer(server.url.removesuffix("/v1") + "/wrong").write(FRENCH)  # a 404

    def not_a_completion() -> tuple[int, bytes]:
        return 200, b'{"hello": "world"}'

    with FakeChatServer([not_a_completion]) as server, pytest.raises(EngineFailed) as odd:
        _writer(server.url).write(FRENCH)
    assert "not a chat completion" in odd.value.message


def test_without_an_endpoint_the_engine_says_how_to_configure_it() -> None:
    writer = OpenAICompatibleWriter(Settings(llm_endpoint=""))
    assert not writer.info().available
    assert "REELFORGE_LLM_ENDPOINT" in writer.info().reason
    with pytest.raises(EngineUnavailable) as caught:
        writer.write(FRENCH)
    assert "rule-based" in caught.value.hint
    with pytest.raises(EngineUnavailable):
        OpenAICompatibleWriter(Settings(llm_endpoint="file:///etc/passwd")).write(FRENCH)


# --------------------------------------------------------------------------- rule-based


IDEAS = [
    (IDEA, "en", "restaurant", "couscous restaurant in Algiers"),
    ("une pub de 30 secondes pour un restaurant de couscous à Alger", "fr", "restaurant", "Alger"),
    ("un anuncio para una panadería artesanal en Sevilla", "es", "restaurant", "Sevilla"),
    ("إعلان لمطعم كسكس في الجزائر", "ar", "restaurant", "كسكس"),
    ("एक तितली के बारे में कहानी जो बारिश से डरती है", "hi", "childrens-story", "तितली"),
    ("a video explaining how to brew mint tea", "en", "explainer", "mint tea"),
    ("a launch video for a solar phone charger", "en", "product-promo", "solar phone charger"),
]


@pytest.mark.parametrize(("idea", "language", "template", "subject"), IDEAS)
def test_rule_based_drafts_name_the_subject_in_a_hook_body_and_call(
    idea: str, language: str, template: str, subject: str
) -> None:
    seconds = writing.seconds_in(idea) or 30
    written = RuleBasedWriter().write(WritingRequest(idea, language, "", seconds))
    board = reelforge.parse_storyboard(written.storyboard)
    assert board.template == template  # guessed from the idea's words
    assert board.language == language
    assert 3 <= len(board.scenes) <= 6
    assert all(scene.title and scene.narration for scene in board.scenes)
    assert subject in board.scenes[0].narration  # the hook names what it is about
    assert subject in board.title or subject in board.scenes[-1].narration
    assert all(scene.visual is not None and scene.visual.prompt for scene in board.scenes)
    assert "rule-based" in written.notes[0]
    words = sum(writing.word_count(scene.narration) for scene in board.scenes)
    assert words <= seconds * writing.WORDS_PER_SECOND * 1.25  # reads in about its length
    assert detect_language(" ".join(s.narration for s in board.scenes)) == language


def test_rule_based_notes_become_the_body_and_their_call_the_ending() -> None:
    notes = (
        "Our bakery in Lyon\n- sourdough baked every morning at 5\n"
        "- croissants with Normandy butter\n- open on Sundays until 1 pm\n"
        "- Order: call 04 78 00 00 00"
    )
    written = RuleBasedWriter().write(WritingRequest(notes, "en", "restaurant", 30))
    scenes = written.storyboard["scenes"]
    assert scenes[0]["narration"].endswith("our bakery in Lyon.")
    assert [s["narration"] for s in scenes[1:-1]] == [
        "Sourdough baked every morning at 5.",
        "Croissants with Normandy butter.",
        "Open on Sundays until 1 pm.",
    ]
    assert scenes[1]["title"] == "Sourdough baked every morning"
    assert scenes[3]["title"] == "Open on Sundays"  # no dangling "until"
    assert scenes[-1] == {**scenes[-1], "title": "Order", "narration": "Call 04 78 00 00 00."}
    assert written.storyboard["title"] == "Bakery in Lyon"


def test_rule_based_does_not_pretend_to_translate() -> None:
    written = RuleBasedWriter().write(WritingRequest(IDEA, "fr", "", 30))
    narration = " ".join(s["narration"] for s in written.storyboard["scenes"])
    assert "Algiers" not in narration and "notre restaurant" in narration
    assert any("does not translate" in note for note in written.notes)
    # the English idea still describes the pictures, with the template's Algerian context
    assert "couscous restaurant in Algiers" in written.storyboard["scenes"][0]["visual"]["prompt"]
    assert "zellige" in written.storyboard["scenes"][0]["visual"]["prompt"]


def test_rule_based_refuses_languages_it_has_no_phrases_for() -> None:
    with pytest.raises(SpecError) as caught:
        RuleBasedWriter().write(WritingRequest("ein Video über Brot", "de", "", 30))
    assert "REELFORGE_LLM_ENDPOINT" in caught.value.hint


def test_seconds_and_scene_counts_follow_the_request() -> None:
    short = RuleBasedWriter().write(WritingRequest(IDEA, "en", "", 15, max_scenes=6))
    long = RuleBasedWriter().write(WritingRequest(IDEA, "en", "", 60, max_scenes=6))
    capped = RuleBasedWriter().write(WritingRequest(IDEA, "en", "", 60, max_scenes=3))
    assert len(short.storyboard["scenes"]) == 3
    assert len(long.storyboard["scenes"]) == 6
    assert len(capped.storyboard["scenes"]) == 3
    assert writing.seconds_in("une vidéo de 2 minutes") == 120
    assert writing.seconds_in("un anuncio de 45 segundos") == 45


# --------------------------------------------------------------------------- the front door


@pytest.mark.parametrize(
    ("idea", "kwargs", "message", "hint"),
    [
        ("   ", {}, "the idea is empty", "reelforge write"),
        ("x" * (writing.MAX_IDEA_CHARS + 1), {}, "at most", "reelforge make"),
        (IDEA, {"seconds": 2}, "5 to 600 seconds", "--seconds"),
        (IDEA, {"template": "resturant"}, "unknown template", "restaurant"),
        (IDEA, {"language": "not a tag"}, "not a language tag", "en, fr"),
        (IDEA, {"max_scenes": 40}, "max_scenes", "3 to 6"),
    ],
)
def test_bad_requests_fail_fast_with_a_hint(
    idea: str, kwargs: dict[str, Any], message: str, hint: str
) -> None:
    with pytest.raises(SpecError) as caught:
        reelforge.write_script(idea, engine="rule-based", **kwargs)
    assert message in caught.value.message
    assert hint in caught.value.hint


def test_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(EngineUnavailable) as caught:
        reelforge.write_script(IDEA, engine="gpt-9")
    assert "rule-based" in caught.value.hint and "openai-compatible" in caught.value.hint


def test_the_markdown_script_reads_back_as_the_same_storyboard() -> None:
    tricky = json.loads(json.dumps(GOOD_ANSWER))
    tricky["scenes"][1]["narration"] = (
        "1. Roll *semolina* by hand, [twice] - then steam_it `slowly`; #1 in town > all."
    )
    tricky["scenes"][1]["visual"]["prompt"] = "a bowl --> with steam"
    fields, _ = writing.read_answer(
        tricky, language="fr", template="restaurant", seconds=30, max_scenes=6
    )
    markdown = writing.to_markdown(fields, engine="openai-compatible", model="m")
    board = reelforge.parse_script(markdown)
    assert [s.narration for s in board.scenes] == [s["narration"] for s in fields["scenes"]]
    assert [s.title for s in board.scenes] == [s["title"] for s in fields["scenes"]]
    assert board.title == "Le goût d'Alger" and board.template == "restaurant"
    assert board.language == "fr" and board.target_duration == 30
    assert "openai-compatible" in markdown.split("---")[1]


def test_default_engine_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELFORGE_WRITER_ENGINE", raising=False)
    monkeypatch.delenv("REELFORGE_LLM_ENDPOINT", raising=False)
    get_settings.cache_clear()
    try:
        assert reelforge.write_script(IDEA).engine == "rule-based"
        with FakeChatServer([json.dumps(GOOD_ANSWER)]) as server:
            monkeypatch.setenv("REELFORGE_LLM_ENDPOINT", server.url)
            get_settings.cache_clear()
            written = reelforge.write_script(IDEA, language="fr")
        assert written.engine == "openai-compatible" and len(server.requests) == 1
    finally:
        get_settings.cache_clear()
        registry.reset()


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("REELFORGE_LLM_ENDPOINT", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


QUICK = ["--voice", "fake-adult-male", "--music", "none", "--resolution", "180", "--quiet"]


@pytest.mark.usefixtures("fake_voice")
def test_write_then_make(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["write", IDEA, "--language", "fr", "-o", "script.md"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "rule-based" in err and "does not translate" in err
    board = reelforge.load_spec(workspace / "script.md", voice="fake-adult-male", music="none")
    assert board.language == "fr" and board.template == "restaurant"
    planned = reelforge.plan_video(board, workspace / "work", preview=True)
    assert planned.timeline.title == board.title
    spoken = " ".join(line.text for line in planned.timeline.captions)
    assert "Réservez votre table" in spoken or "réservez votre table" in spoken

    code = cli.main(["make", "script.md", "-o", "out/video.mp4", "--preview", *QUICK])
    assert code == 0, capsys.readouterr().err
    assert (workspace / "out" / "video.mp4").stat().st_size > 0


@pytest.mark.usefixtures("fake_voice")
def test_make_from_an_idea(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["make", "--idea", "a story about a brave little fox", "-o", "out/fox.mp4", "--preview"]
        + ["--duration", "15", *QUICK]
    )
    assert code == 0, capsys.readouterr().err
    script = (workspace / "out" / "fox.md").read_text(encoding="utf-8")
    assert "a brave little fox." in script  # the hook names the hero
    assert script.count("\n## ") == 3
    manifest = json.loads((workspace / "out" / "fox.json").read_text(encoding="utf-8"))
    assert manifest["timeline"]["title"] == "Brave little fox"


def test_write_errors_are_one_clear_message(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["write", ""]) == SpecError.exit_code
    assert "the idea is empty" in capsys.readouterr().err
    assert cli.main(["write", IDEA, "-o", "script.docx"]) == SpecError.exit_code
    assert ".md" in capsys.readouterr().err
    assert cli.main(["make", "--idea", IDEA, "script.md"]) == SpecError.exit_code
    assert "not both" in capsys.readouterr().err


def test_write_from_a_voice_note(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A voice note spoken by the project's Piper voice, transcribed offline by Whisper tiny.en,
    becomes the notes of the script: its first sentence the lead, the others the body."""
    from clips_media import narrate

    note = narrate(
        [
            "A video for our bakery in Paris.",
            "We bake sourdough bread every morning.",
            "Our croissants are made with Normandy butter.",
            "We are open on Sundays.",
        ],
        workspace / "note",
    )
    monkeypatch.setenv("REELFORGE_ASR_MODEL", "tiny.en")
    get_settings.cache_clear()
    code = cli.main(["write", "--from-audio", str(note.wav), "--language", "en", "-o", "s.md"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "heard (en):" in err
    board = reelforge.load_spec(workspace / "s.md")
    assert board.template == "restaurant"
    assert "our bakery" in board.scenes[0].narration.lower()  # the lead is the subject
    spoken = " ".join(scene.narration.lower() for scene in board.scenes[1:])
    assert "sourdough" in spoken and "butter" in spoken and "sundays" in spoken
    assert cli.main(["write", "idea", "--from-audio", str(note.wav)]) == SpecError.exit_code
