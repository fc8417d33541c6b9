"""Caption translation: the OpenAI-compatible translator against the fake chat server, the
CTranslate2 folder translator on a tiny random-weight Marian model built here, and
`make --translate fr,ar` end to end (sidecars, soft mov_text tracks with ISO 639-2 tags, burned
captions left in the narration's language) with its errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_server import FakeChatServer
from chat_server import translation_cues as _cues
from chat_server import translation_tagged as tagged
from chat_server import translation_target as _target
from fakes import FakeVoice, fake_voice  # noqa: F401  (fixture)

import reelforge
from reelforge import cli, translation
from reelforge.engines.base import TranslationRequest
from reelforge.engines.translate.ctranslate2_folder import (
    CTranslate2Translator,
    language_tokens,
    model_folder,
)
from reelforge.engines.translate.openai_compatible import OpenAICompatibleTranslator
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError
from reelforge.kinds import get as get_kind
from reelforge.media.ffmpeg import run_ffprobe
from reelforge.render.plan import compile_plan
from reelforge.settings import Settings, get_settings
from reelforge.text.languages import translation_language
from reelforge.timeline import CaptionLine, SubtitleTrack, Timeline

CUES = ("Fresh bread", "every morning,", "baked by hand", "in our oven.", "Come and taste it!")


def _translator(url: str, **settings: Any) -> OpenAICompatibleTranslator:
    return OpenAICompatibleTranslator(
        Settings(llm_endpoint=url, llm_model="fake-model", llm_timeout_s=5, **settings)
    )


# --------------------------------------------------------------------------- OpenAI-compatible


def test_cues_go_in_batches_and_come_back_one_per_cue_in_order() -> None:
    with FakeChatServer(answer=tagged) as server:
        done = _translator(server.url, translation_batch=2).translate(
            TranslationRequest(CUES, "en", "fr")
        )
    assert done.texts == tuple(f"[fr] {cue}" for cue in CUES)
    assert done.engine == "openai-compatible" and done.model == "fake-model-1"
    assert [_cues(body) for body in server.requests] == [
        list(CUES[0:2]),
        list(CUES[2:4]),
        [CUES[4]],
    ]
    first = server.requests[0]
    assert "from English (en) into French (fr)" in first["messages"][0]["content"]
    schema = first["response_format"]["json_schema"]["schema"]["properties"]["translations"]
    assert schema["minItems"] == schema["maxItems"] == 2


def test_a_bad_answer_is_asked_again_once_with_its_problem() -> None:
    merged = json.dumps({"translations": ["Du pain frais chaque matin,"]})
    good = json.dumps({"translations": ["Du pain frais", "chaque matin,"]})
    with FakeChatServer([merged, good]) as server:
        done = _translator(server.url).translate(TranslationRequest(CUES[:2], "en", "fr"))
    assert done.texts == ("Du pain frais", "chaque matin,")
    assert len(server.requests) == 2
    feedback = server.requests[1]["messages"][-1]["content"]
    assert "has 1 strings for 2 cues" in feedback


@pytest.mark.parametrize(
    "answer",
    [
        "not json at all",
        json.dumps({"translations": ["un", ""]}),  # an empty cue
        json.dumps({"translations": ["un", 2]}),
        json.dumps({"texts": ["un", "deux"]}),
    ],
)
def test_an_answer_that_never_validates_fails_after_two_attempts(answer: str) -> None:
    with FakeChatServer([answer]) as server, pytest.raises(EngineFailed) as failed:
        _translator(server.url).translate(TranslationRequest(CUES[:2], "en", "fr"))
    assert len(server.requests) == 2
    assert "did not validate after 2 attempts" in failed.value.message
    assert "REELFORGE_TRANSLATION_MODEL" in failed.value.hint


def test_without_any_engine_the_error_names_the_settings() -> None:
    with pytest.raises(EngineUnavailable) as missing:
        translation.engine_name(Settings(llm_endpoint="", translation_model=None))
    hint = missing.value.hint
    assert "REELFORGE_TRANSLATION_MODEL" in hint and "REELFORGE_LLM_ENDPOINT" in hint
    assert translation.engine_name(Settings(llm_endpoint="http://127.0.0.1:9/v1")) == (
        "openai-compatible"
    )
    both = Settings(llm_endpoint="http://127.0.0.1:9/v1", translation_model=Path("/models"))
    assert translation.engine_name(both) == "ctranslate2"
    info = OpenAICompatibleTranslator(Settings(llm_endpoint="")).info()
    assert not info.available and "REELFORGE_LLM_ENDPOINT" in info.reason
    info = CTranslate2Translator(Settings(translation_model=None)).info()
    assert not info.available and "REELFORGE_TRANSLATION_MODEL" in info.reason


def test_language_codes_are_checked_against_the_table() -> None:
    assert translation_language("FR-fr").iso639_2 == "fra"
    assert translation_language("ar").nllb == "arb_Arab"
    with pytest.raises(SpecError) as unknown:
        translation_language("xx")
    assert "fr" in unknown.value.hint and "ar" in unknown.value.hint
    board = reelforge.parse_storyboard({"scenes": ["Hello."], "translate": "fr, AR,fr"})
    assert board.translate == ("fr", "ar")
    with pytest.raises(SpecError) as bad:
        reelforge.parse_storyboard({"scenes": ["Hello."], "translate": ["fr", "klingon"]})
    assert "'klingon'" in bad.value.message and "known: am, ar" in bad.value.message
    with pytest.raises(SpecError, match="already in English"):
        translation.targets(["fr", "en"], "en")


# --------------------------------------------------------------------------- CTranslate2


def test_language_tokens_follow_the_model_family() -> None:
    fr, ar, en = (translation_language(code) for code in ("fr", "ar", "en"))
    nllb = frozenset({"eng_Latn", "fra_Latn", "arb_Arab", "▁a"})
    assert language_tokens(nllb, en, ar) == language_tokens(nllb, en, ar)
    tokens = language_tokens(nllb, en, ar)
    assert tokens.before == ("eng_Latn",) and tokens.prefix == ("arb_Arab",)
    m2m = frozenset({"__en__", "__fr__", "▁a"})
    assert language_tokens(m2m, en, fr).prefix == ("__fr__",)
    with pytest.raises(EngineFailed, match="does not know Arabic"):
        language_tokens(m2m, en, ar)
    marian = frozenset({">>fra<<", ">>spa<<", "▁a"})
    assert language_tokens(marian, en, fr).before == (">>fra<<",)
    pair = frozenset({"▁a", "</s>"})
    assert language_tokens(pair, en, fr) == language_tokens(pair, en, ar)  # the folder decides


def test_a_folder_of_marian_pairs_gives_the_one_for_the_languages(tmp_path: Path) -> None:
    for name in ("opus-mt-en-fr", "opus-mt-en-ar"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.bin").write_bytes(b"")
    assert model_folder(tmp_path, "en", "ar").name == "opus-mt-en-ar"
    with pytest.raises(EngineUnavailable, match="no CTranslate2 model for en -> de"):
        model_folder(tmp_path, "en", "de")
    (tmp_path / "nllb-200").mkdir()
    (tmp_path / "nllb-200" / "model.bin").write_bytes(b"")
    assert model_folder(tmp_path, "en", "de").name == "nllb-200"  # a multilingual model


def _tiny_marian(folder: Path) -> Path:
    """A random-weight MarianMT model with a sentencepiece vocabulary trained here, converted
    with CTranslate2's own converter: the real adapter runs on it (its output is gibberish)."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    spm = pytest.importorskip("sentencepiece")
    import io

    import torch
    from ctranslate2.converters import TransformersConverter

    source = folder / "hf"
    source.mkdir()
    text = [*CUES, "le pain frais chaque matin", "venez le goûter", "fait main dans notre four"]
    for name, symbols in (("source.spm", [">>fra<<", ">>ara<<"]), ("target.spm", [])):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(text * 20),
            model_writer=model,
            vocab_size=60,
            character_coverage=1.0,
            user_defined_symbols=symbols,
            hard_vocab_limit=False,
            minloglevel=2,
        )
        (source / name).write_bytes(model.getvalue())
    vocabulary = {"</s>": 0, "<unk>": 1}
    for name in ("source.spm", "target.spm"):
        pieces = spm.SentencePieceProcessor(model_file=str(source / name))
        for number in range(pieces.get_piece_size()):
            vocabulary.setdefault(pieces.id_to_piece(number), len(vocabulary))
    vocabulary["<pad>"] = len(vocabulary)  # Marian's pad comes last
    (source / "vocab.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    tokenizer = transformers.MarianTokenizer(
        str(source / "source.spm"), str(source / "target.spm"), str(source / "vocab.json")
    )
    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=len(vocabulary),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=vocabulary["<pad>"],
        eos_token_id=vocabulary["</s>"],
        decoder_start_token_id=vocabulary["<pad>"],
    )
    transformers.MarianMTModel(config).save_pretrained(source)
    tokenizer.save_pretrained(source)
    out = folder / "models" / "opus-mt-en-mul"
    TransformersConverter(str(source), copy_files=["source.spm", "target.spm"]).convert(str(out))
    return out.parent


def test_ctranslate2_runs_a_tiny_marian_model_end_to_end(tmp_path: Path) -> None:
    models = _tiny_marian(tmp_path)
    engine = CTranslate2Translator(Settings(translation_model=models))
    assert engine.info().available, engine.info().reason
    done = engine.translate(TranslationRequest(CUES, "en", "fr"))
    assert len(done.texts) == len(CUES) and all(text.strip() for text in done.texts)
    assert done.engine == "ctranslate2" and done.model == "opus-mt-en-mul"
    assert not any("<" in text or "▁" in text for text in done.texts)  # tokens decoded
    # through planning's translation step: one cue per caption line, timings kept
    lines = [CaptionLine(1000 * n, 1000 * n + 900, cue) for n, cue in enumerate(CUES)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REELFORGE_TRANSLATION_MODEL", str(models))
        get_settings.cache_clear()
        try:
            tracks = translation.translate_captions(lines, "en", ["fr", "ar"]).tracks
        finally:
            get_settings.cache_clear()
    assert [(t.language, t.iso639_2) for t in tracks] == [("fr", "fra"), ("ar", "ara")]
    for track in tracks:
        assert [(c.start_ms, c.end_ms) for c in track.captions] == [
            (c.start_ms, c.end_ms) for c in lines
        ]
        assert all(cue.text for cue in track.captions)
    assert tracks[1].captions[0].rtl and not tracks[0].captions[0].rtl


# --------------------------------------------------------------------------- render plan


def test_the_encode_muxes_each_track_as_mov_text_with_its_language(tmp_path: Path) -> None:
    cues = (CaptionLine(0, 900, "Bonjour"),)
    timeline = Timeline(
        320,
        180,
        30,
        60,
        (),
        subtitles=(
            SubtitleTrack("fr", "fra", "French", cues),
            SubtitleTrack("ar", "ara", "Arabic", (CaptionLine(0, 900, "مرحبا"),)),
        ),
    )
    assert Timeline.from_json(timeline.to_json()) == timeline
    plan = compile_plan(timeline, tmp_path / "out.mp4", tmp_path)
    args = " ".join(plan.segments[0].args)
    assert f"-f srt -i {tmp_path}/subtitles.fr.srt -f srt -i {tmp_path}/subtitles.ar.srt" in args
    assert "-map 2:s -map 3:s -c:s mov_text" in args
    assert "-metadata:s:s:0 language=fra" in args and "-metadata:s:s:1 language=ara" in args
    assert "Bonjour" in plan.files[str(tmp_path / "subtitles.fr.srt")]
    segmented = compile_plan(
        timeline.replace(encoder=timeline.encoder.__class__(segment_frames=30)),
        tmp_path / "out.mp4",
        tmp_path,
    )
    assert "-c:s mov_text" in " ".join(segmented.join_args)
    assert not any("mov_text" in " ".join(s.args) for s in segmented.segments)


# --------------------------------------------------------------------------- make --translate

SCRIPT = """# Bakery

## Morning
Fresh bread every morning, baked by hand in our oven.

## Visit
Come and taste it today, the door is open.
"""
QUICK = ["--voice", "fake-adult-male", "--music", "none", "--resolution", "180", "--quiet"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REELFORGE_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("LLM_ENDPOINT", "TRANSLATION_MODEL", "TRANSLATION_ENGINE"):
        monkeypatch.delenv(f"REELFORGE_{name}", raising=False)
    (tmp_path / "bakery.md").write_text(SCRIPT, encoding="utf-8")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _serve(monkeypatch: pytest.MonkeyPatch, server: FakeChatServer) -> None:
    monkeypatch.setenv("REELFORGE_LLM_ENDPOINT", server.url)
    get_settings.cache_clear()


def _streams(video: Path) -> list[dict[str, Any]]:
    text = run_ffprobe(["-show_streams", "-of", "json", str(video)])
    return list(json.loads(text)["streams"])


def _times(srt: Path) -> list[str]:
    return re.findall(r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d", srt.read_text("utf-8"))


@pytest.mark.usefixtures("fake_voice")
def test_make_translate_writes_tracks_and_sidecars(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeChatServer(answer=tagged) as server:
        _serve(monkeypatch, server)
        code = cli.main(
            ["make", "bakery.md", "-o", "out/video.mp4", "--preview", "--keep-work"]
            + ["--translate", "fr,ar", *QUICK]
        )
    assert code == 0, capsys.readouterr().err
    out = workspace / "out"
    subtitles = [s for s in _streams(out / "video.mp4") if s["codec_type"] == "subtitle"]
    assert [s["codec_name"] for s in subtitles] == ["mov_text", "mov_text"]
    assert [s["tags"]["language"] for s in subtitles] == ["fra", "ara"]
    assert [s["tags"].get("handler_name") for s in subtitles] == ["French", "Arabic"]
    assert len([s for s in _streams(out / "video.mp4") if s["codec_type"] == "video"]) == 1
    original = _times(out / "video.srt")
    for code_ in ("fr", "ar"):
        assert _times(out / f"video.{code_}.srt") == original and original
        assert f"[{code_}] Fresh bread" in (out / f"video.{code_}.srt").read_text("utf-8")
        assert (out / f"video.{code_}.vtt").read_text("utf-8").startswith("WEBVTT")
    # the burned captions stay in the narration's language
    burned = (out / ".video.work" / "captions.ass").read_text("utf-8")
    assert "Fresh" in burned and "[fr]" not in burned and "[ar]" not in burned
    manifest = json.loads((out / "video.json").read_text("utf-8"))
    assert manifest["engines"]["translation"]["name"] == "openai-compatible"
    assert [(s["language"], s["iso639_2"], s["files"]["srt"]) for s in manifest["subtitles"]] == [
        ("fr", "fra", "video.fr.srt"),
        ("ar", "ara", "video.ar.srt"),
    ]
    # the video kind's one output table names them, so the service stores and serves them
    kind = get_kind("video")
    assert kind.output_named("captions.fr.srt") == ("srt.fr", kind.outputs["srt.fr"])
    assert kind.outputs["vtt.ar"].file == "video.ar.vtt"


@pytest.mark.usefixtures("fake_voice")
def test_an_engine_failing_half_way_leaves_nothing_behind(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def french_only(body: dict[str, Any]) -> Any:
        if _target(body) == "ar":
            return lambda: (500, b'{"error": {"message": "model crashed"}}')
        return tagged(body)

    with FakeChatServer(answer=french_only) as server:
        _serve(monkeypatch, server)
        code = cli.main(
            ["make", "bakery.md", "-o", "out/video.mp4", "--preview"]
            + ["--translate", "fr,ar", *QUICK]
        )
    err = capsys.readouterr().err
    assert code == EngineFailed.exit_code, err
    assert "HTTP 500" in err and "model crashed" in err
    assert not (workspace / "out").exists() or not any((workspace / "out").iterdir())


@pytest.mark.usefixtures("fake_voice")
def test_translate_without_an_engine_fails_before_any_voice_speaks(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["make", "bakery.md", "--preview", "--translate", "fr", *QUICK])
    err = capsys.readouterr().err
    assert code == EngineUnavailable.exit_code, err
    assert "no translation engine is configured" in err
    assert "REELFORGE_TRANSLATION_MODEL" in err and "REELFORGE_LLM_ENDPOINT" in err
    assert FakeVoice.calls == []
    code = cli.main(["make", "bakery.md", "--preview", "--translate", "fr,xx", *QUICK])
    err = capsys.readouterr().err
    assert code == SpecError.exit_code and "'xx'" in err
