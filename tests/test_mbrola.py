"""The optional MBROLA engine: word times carried over from espeak, the database's missing
diphones renamed, the licence shown, and (where `make mbrola` installed it) real Arabic speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest
from reelforge.engines.tts import espeak
from reelforge.engines.tts.espeak import MbrolaEngine, _carried_words, _Spoken, renamed

INSTALLED = shutil.which("mbrola") is not None and espeak.mbrola_database("ar2").is_file()
needs_mbrola = pytest.mark.skipif(not INSTALLED, reason="MBROLA ar2 not installed (make mbrola)")


def _spoken(words: list[tuple[int, int]], phonemes: list[tuple[int, str]]) -> _Spoken:
    import numpy as np

    return _Spoken(np.zeros(0, np.int16), tuple(words), tuple(phonemes))


def test_words_start_at_the_same_phoneme_on_the_mbrola_timeline() -> None:
    names = ["m", "a", "r", "k", "a", "b"]
    plain = _spoken(
        [(0, 0), (5, 300)],
        [(t, n) for t, n in zip((0, 100, 200, 300, 400, 500), names, strict=True)],
    )
    timed = _spoken([], [(t, n) for t, n in zip((0, 80, 170, 260, 330, 420), names, strict=True)])
    assert _carried_words(plain, timed) == ((0, 0), (5, 260))


def test_missing_diphones_are_renamed_and_the_rest_kept() -> None:
    pho = "_\t50\nm\t69\t100 109\nR\t65\na\t55\t0 117\n_\t301"
    assert renamed(pho, "ar2") == "_\t50\nm\t69\t100 109\nr\t65\na\t55\t0 117\n_\t301\n"
    assert renamed(pho, "fr1") == pho + "\n"  # no renames known for other databases


def test_without_mbrola_the_engine_says_how_to_opt_in_and_its_licence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    info = MbrolaEngine().info()
    assert not info.available and "make mbrola" in info.reason
    assert "non-commercial" in info.licence
    assert MbrolaEngine().voices() == []


@needs_mbrola
def test_mbrola_speaks_arabic_with_word_times(tmp_path: Path) -> None:
    text = "مرحبا بكم في مطعمنا الجديد"
    engine = registry.get("voice", "mbrola")
    result = engine.synthesize(
        SpeechRequest(text=text, language="ar", voice="mb-ar2", speed=1.0), tmp_path
    )
    assert result.engine == "mbrola" and result.duration_ms > 1000
    assert [w.text for w in result.words] == text.split()
    starts = [w.start_ms for w in result.words]
    assert starts == sorted(starts) and starts[-1] > result.duration_ms / 2
    assert result.words[-1].end_ms <= result.duration_ms
    assert result.phonemes and result.phonemes[0].symbol == "m"


@needs_mbrola
def test_arabic_catalogue_voices_prefer_mbrola_once_installed() -> None:
    from reelforge.voices import catalog

    by_id = {v.id: v for v in catalog()}
    assert by_id["ar-adult-male"].engine == "mbrola"
    assert by_id["ar-child-female"].transform  # the man's voice made a girl's by WORLD
    assert by_id["fr-adult-female"].engine != "mbrola"  # Kokoro keeps French
