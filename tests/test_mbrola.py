"""The optional MBROLA engine: espeak's words timed by the `.pho` lines MBROLA speaks, the
database's missing diphones renamed, the licence shown, and (where `make mbrola` installed it)
real Arabic speech whose word times match its pauses, with other threads' stderr untouched."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest
from reelforge.engines.tts import espeak
from reelforge.engines.tts.espeak import (
    MbrolaEngine,
    _alignment,
    _pho_timeline,
    _retimed,
    _Spoken,
    renamed,
)

INSTALLED = shutil.which("mbrola") is not None and espeak.mbrola_database("ar2").is_file()
needs_mbrola = pytest.mark.skipif(not INSTALLED, reason="MBROLA ar2 not installed (make mbrola)")


def _spoken(words: list[tuple[int, int]], phonemes: list[tuple[int, str]]) -> _Spoken:
    return _Spoken(np.zeros(0, np.int16), tuple(words), tuple(phonemes))


def test_pho_lines_give_each_phoneme_its_start() -> None:
    pho = "_\t50\nm\t69\t100 109\n\n; a comment\nR\t65\na\t0\t0 117\n_\t301\n"
    assert _pho_timeline(pho) == [(0, "_"), (50, "m"), (119, "R"), (184, "a"), (184, "_")]


def test_a_sound_split_in_two_keeps_the_sound_before_it_paired() -> None:
    # espeak's "A a: d" is MBROLA's "H a a d": A pairs with H, the long a with the first a
    assert _alignment(["m", "a", "A", "a", "d"], ["m", "a", "H", "a", "a", "d"]) == [0, 1, 2, 3, 5]
    # a phoneme MBROLA dropped sits just before the next one it kept
    assert _alignment(["a", "x", "b"], ["a", "b"]) == [0, 1, 1]
    assert _alignment(["a", "b"], ["_", "a", "b", "_"]) == [1, 2]


def test_words_and_phonemes_take_the_times_of_the_pho_lines() -> None:
    # espeak said "m a | A a d" (its own timeline); MBROLA spoke "m a H a a d"
    plain = _spoken(
        [(0, 0), (3, 200)],
        [(0, "m"), (100, "a"), (200, "A"), (300, "a:"), (500, "d")],
    )
    timed = [(0, "m"), (70, "a"), (120, "H"), (190, "a"), (240, "a"), (290, "d")]
    spoken = _retimed(plain, timed, np.ones(8000, np.int16))
    assert spoken.words == ((0, 0), (3, 120))
    assert spoken.phonemes == ((0, "m"), (70, "a"), (120, "A"), (190, "a:"), (290, "d"))


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


def _pauses(path: Path, quiet: float = 100.0) -> list[tuple[int, int]]:
    """(start ms, end ms) of each stretch of 100 ms or more whose 5 ms windows are quiet."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        audio = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(float)
    window = rate // 200
    loud = [
        float(np.sqrt(np.mean(audio[i : i + window] ** 2))) > quiet
        for i in range(0, audio.size - window, window)
    ]
    pauses, run = [], 0
    for index, sounding in enumerate(loud):
        if not sounding:
            run += 1
            continue
        if run >= 20:
            pauses.append(((index - run) * 5, index * 5))
        run = 0
    return pauses


@needs_mbrola
def test_word_times_meet_the_pauses_mbrola_spoke(tmp_path: Path) -> None:
    # measured: the words around the comma stop 24 ms after the audio falls silent and start
    # 19 ms before it sounds again; timed by the library's own MBROLA run they were 68 and
    # 24 ms late (its timeline ran 45 ms behind the audio and drifted from it)
    text = "اشترى أحمد ثلاثة كتب جديدة من المكتبة يوم الخميس، وقرأها كلها في أسبوع واحد."
    result = MbrolaEngine().synthesize(
        SpeechRequest(text=text, language="ar", voice="mb-ar2;rate=0.85"), tmp_path
    )
    ((silent, sounding),) = _pauses(result.audio)
    comma = next(k for k, word in enumerate(result.words) if word.text.endswith("،"))
    assert abs(result.words[comma].end_ms - silent) <= 40
    assert abs(result.words[comma + 1].start_ms - sounding) <= 40


@needs_mbrola
def test_mbrola_leaves_other_threads_stderr_alone(tmp_path: Path) -> None:
    # The engine once sent file descriptor 2 to /dev/null around the library's MBROLA run,
    # for the whole process: what other threads wrote meanwhile was lost, and two overlapping
    # runs could leave it there. Now nothing in the engine touches it.
    texts = ["مرحبا بكم في مطعمنا الجديد", "تشرق الشمس كل يوم من الشرق وتغرب في الغرب."]
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            before = os.fstat(2)
            done = threading.Event()

            def speak(index: int) -> None:
                for text in texts * 2:
                    folder = tmp_path / f"{index}"
                    folder.mkdir(exist_ok=True)
                    request = SpeechRequest(text=text, language="ar", voice="mb-ar2")
                    MbrolaEngine().synthesize(request, folder)

            workers = [threading.Thread(target=speak, args=(k,)) for k in range(2)]
            for worker in workers:
                worker.start()
            written = 0
            while any(worker.is_alive() for worker in workers) or written < 50:
                os.write(2, f"line {written}\n".encode())
                written += 1
                done.wait(0.002)
            for worker in workers:
                worker.join()
            after = os.fstat(2)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        lines = log.read().decode().splitlines()
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    assert [line for line in lines if line.startswith("line ")] == [
        f"line {k}" for k in range(written)
    ]
    assert not [line for line in lines if "mbrola" in line]  # the library no longer runs it
