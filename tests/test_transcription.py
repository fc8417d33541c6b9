"""Transcription: Whisper tiny.en on the project's own Piper narration, word times compared
with the voice's own, SRT/VTT/JSON written, bad inputs refused with a hint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from clips_media import Narration, narrate, not_a_video, talking_head, video_without_audio

import reelforge
from reelforge import cli
from reelforge.engines import registry
from reelforge.engines.asr.whisper import quiet_cut
from reelforge.engines.base import TranscriptionRequest
from reelforge.errors import MediaError, SpecError

SENTENCES = [
    "Pricing is the hardest part of any startup.",
    "Most founders charge far too little.",
]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Narration, Path]:
    folder = tmp_path_factory.mktemp("asr")
    narration = narrate(SENTENCES, folder)
    video, _ = talking_head(folder / "talk.mp4", narration, size=(320, 180))
    return narration, video


def _cer(reference: str, hypothesis: str) -> float:
    ref = "".join(c for c in reference.lower() if c.isalnum() or c == " ").split()
    hyp = "".join(c for c in hypothesis.lower() if c.isalnum() or c == " ").split()
    a, b = " ".join(ref), " ".join(hyp)
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1] / max(1, len(a))


def test_transcribe_video_words_match_the_voice(
    spoken: tuple[Narration, Path], tmp_path: Path
) -> None:
    narration, video = spoken
    found = reelforge.transcribe(video, tmp_path / "talk.json", model="tiny.en")
    assert found.language == "en"
    assert _cer(" ".join(SENTENCES), found.text) < 0.08
    # every recognised word starts near the voice's own time for it
    by_text = {w.text.strip(".,").lower(): w for w in narration.words}
    matched = [
        (w, by_text[w.text.strip(".,").lower()])
        for w in found.words
        if w.text.strip(".,").lower() in by_text
    ]
    assert len(matched) >= len(narration.words) * 0.7
    errors = [abs(w.start_ms - ref.start_ms) for w, ref in matched]
    assert float(np.median(errors)) < 250
    document = json.loads((tmp_path / "talk.json").read_text())
    assert document["segments"][0]["words"][0]["text"].lower() == "pricing"
    assert all(s["start"] <= s["end"] for s in document["segments"])


def test_cli_writes_srt_and_vtt(spoken: tuple[Narration, Path], tmp_path: Path) -> None:
    _, video = spoken
    assert (
        cli.main(["transcribe", str(video), "-o", str(tmp_path / "t.srt"), "--model", "tiny.en"])
        == 0
    )
    srt = (tmp_path / "t.srt").read_text()
    assert srt.startswith("1\n00:00:0") and "-->" in srt and "startup" in srt.lower()
    reelforge.transcribe(video, tmp_path / "t.vtt", model="tiny.en", start_s=2.0)
    vtt = (tmp_path / "t.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    # --from keeps the source's clock: nothing starts before 2 s
    assert "00:00:00.000 -->" not in vtt and "00:00:01." not in vtt.split("-->")[0]


def test_long_audio_is_read_in_chunks_cut_between_words(
    spoken: tuple[Narration, Path], tmp_path: Path
) -> None:
    narration, _ = spoken
    engine = registry.get("asr", "whisper")
    whole = engine.transcribe(TranscriptionRequest(narration.wav, model="tiny.en"), tmp_path)
    # chunks of 3 s: the cut falls in the pause between the sentences, not inside a word
    pieces = engine.transcribe(
        TranscriptionRequest(narration.wav, model="tiny.en", chunk_s=3.0), tmp_path
    )
    assert _cer(whole.text, pieces.text) < 0.1
    assert [w.start_ms for w in pieces.words] == sorted(w.start_ms for w in pieces.words)


def test_quiet_cut_finds_the_pause() -> None:
    rate = 16_000
    audio = np.random.default_rng(1).normal(0, 0.3, rate * 4).astype(np.float32)
    audio[int(2.5 * rate) : int(2.8 * rate)] = 0
    cut = quiet_cut(audio, search_s=3.0)
    assert 2.5 * rate <= cut <= 2.8 * rate


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="corrupt or not a media file"):
        reelforge.transcribe(not_a_video(tmp_path / "notes.mp4"))
    with pytest.raises(MediaError, match="no audio track"):
        reelforge.transcribe(video_without_audio(tmp_path / "mute.mp4"))
    silent, _ = talking_head(tmp_path / "silent.mp4", None, size=(320, 180), seconds=2)
    with pytest.raises(MediaError, match="silent"):
        reelforge.transcribe(silent, model="tiny.en")
    with pytest.raises(SpecError, match="transcript as 'txt'"):
        reelforge.transcribe(silent, tmp_path / "out.txt")
    with pytest.raises(SpecError, match="English only"):
        registry.get("asr", "whisper").transcribe(
            TranscriptionRequest(tmp_path / "x.wav", model="tiny.en", language="fr"), tmp_path
        )
