"""Matching a reference voice: a recording is profiled (F0, its spread, the spectral envelope),
the nearest voice is picked and moved toward it by WORLD, and the distances shrink. References
are made here: an espeak voice moved by a known WORLD transform, so the answer is known."""

from __future__ import annotations

import ctypes.util
import dataclasses
import json
import math
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from reelforge import speech_transform, voice_match, voices
from reelforge.engines.base import VoiceInfo
from reelforge.errors import MediaError, SpecError

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None, reason="libespeak-ng is not installed"
)
pytest.importorskip("pyworld")

# About 6-7 s of Arabic in espeak's voice: fast to synthesise, and no neural voice to load.
TEXT = "يلعب الأطفال في الحديقة بعد المدرسة. ثم يعودون إلى البيت لتناول العشاء مع العائلة."
PROBE = "مشينا على ضفة النهر حتى الجسر القديم."


def _espeak(voice_id: str) -> VoiceInfo:
    """espeak's own voice of that id (MBROLA, when installed, takes the catalogue's)."""
    from reelforge.engines import registry

    found = {v.id: v for v in registry.get("voice", "espeak").voices()}[voice_id]
    return dataclasses.replace(found, transform="")


def _reference(folder: Path, voice: str, transform: str) -> Path:
    """espeak's ``voice`` reading TEXT, moved by ``transform``: a recording whose answer is
    known."""
    spoken = voices.speak_as(_espeak(voice), TEXT, "ar", folder)
    reference = folder / f"reference-{voice}.wav"
    speech_transform.apply(Path(spoken.audio), reference, speech_transform.parse(transform))
    return reference


def test_transform_text_round_trips_and_refuses_bad_gains() -> None:
    gains = tuple(round(0.1 * k - 1.5, 1) for k in range(len(speech_transform.EQ_BANDS_HZ)))
    transform = speech_transform.Transform(f0=1.2, envelope=0.95, range=1.3, eq=gains)
    assert speech_transform.parse(speech_transform.unparse(transform)) == transform
    assert speech_transform.unparse(speech_transform.Transform()) == ""
    with pytest.raises(SpecError, match="eq takes 32"):
        speech_transform.parse("eq=1,2,3")
    with pytest.raises(SpecError):
        speech_transform.parse("range=9")


def test_fit_recovers_a_known_stretch_on_band_envelopes() -> None:
    bands = np.array(speech_transform.EQ_BANDS_HZ)
    # two formant-like bumps; the target has them 10 % higher, F0 x1.3 and a wider contour
    envelope = 12 * np.exp(-(((np.log(bands) - math.log(600)) / 0.25) ** 2))
    envelope += 8 * np.exp(-(((np.log(bands) - math.log(1800)) / 0.2) ** 2))
    base = voice_match.VoiceProfile(100.0, 90.0, 115.0, tuple(envelope - envelope.mean()), 5)
    moved = np.interp(np.log(bands) - math.log(1.1), np.log(bands), envelope)
    target = voice_match.VoiceProfile(130.0, 110.0, 160.0, tuple(moved - moved.mean()), 5)
    fitted = voice_match.fit(base, target)
    assert fitted.f0 == pytest.approx(1.3)
    assert fitted.envelope == pytest.approx(1.1, abs=0.011)
    # the spread asked is x1.53; a wider swing than x1.25 hurts intelligibility, so it stops there
    assert target.spread_semitones / base.spread_semitones > 1.5 and fitted.range == 1.25
    assert max(abs(g) for g in fitted.eq) < 1.5  # the stretch explains nearly all of it


@needs_espeak
def test_a_voice_moves_toward_a_reference_and_the_distances_shrink(tmp_path: Path) -> None:
    reference = _reference(tmp_path, "ar-adult-male", "f0=1.3;envelope=1.1;range=1.3")
    match = voice_match.match_voice(
        reference, "ar", tmp_path / "cache", voice="ar-adult-male", probe=PROBE
    )
    assert match.base.id == "ar-adult-male" and match.base.transform == ""
    fitted = speech_transform.parse(match.voice.transform)
    assert 1.2 < fitted.f0 < 1.45 and 1.05 <= fitted.envelope <= 1.15
    before, after = match.before, match.after
    assert before.f0_semitones > 3.5 and after.f0_semitones < 0.5
    assert after.envelope_db < 0.5 * before.envelope_db
    assert after.spread_semitones < before.spread_semitones
    # the matched voice speaks through the voice layer like any other: word times kept
    plain = voices.speak_as(match.base, "مرحبا بكم في بيتنا", "ar", tmp_path)
    moved = voices.speak_as(match.voice, "مرحبا بكم في بيتنا", "ar", tmp_path)
    assert moved.audio != plain.audio
    for a, b in zip(moved.words, plain.words, strict=True):  # espeak's own rounding: 1 ms
        assert a.text == b.text and abs(a.start_ms - b.start_ms) <= 2
    assert (
        speech_transform.measure(moved.audio).f0_hz
        > 1.2 * speech_transform.measure(plain.audio).f0_hz
    )
    report = match.to_dict()
    assert report["distance_after"]["f0_semitones"] < report["distance_before"]["f0_semitones"]
    assert "->" in voice_match.summary(report)


@needs_espeak
def test_the_nearest_candidate_is_picked(tmp_path: Path) -> None:
    """A reference made from the female voice is matched to it, not to the male one."""
    reference = _reference(tmp_path, "ar-adult-female", "f0=1.05")
    pool = [_espeak("ar-adult-male"), _espeak("ar-adult-female")]
    match = voice_match.match_voice(
        reference, "ar", tmp_path / "cache", candidates=pool, probe=PROBE
    )
    assert match.base.id == "ar-adult-female"
    assert match.before.f0_semitones < 2.0


def _tone(path: Path, seconds: float, source: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}:d={seconds}", "-y", str(path)],
        check=True,
    )
    return path


def test_bad_references_are_clear_errors(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    silent = _tone(tmp_path / "silent.wav", 8, "anullsrc=r=16000:cl=mono")
    with pytest.raises(MediaError, match="silent"):
        voice_match.analyse_reference(silent, tmp_path / "a")
    short = _tone(tmp_path / "short.wav", 2, "sine=f=200")
    with pytest.raises(MediaError, match=r"2\.0 s long, too short"):
        voice_match.analyse_reference(short, tmp_path / "b")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all, just words in a file\n" * 20)
    with pytest.raises(MediaError, match="voice reference is unusable"):
        voice_match.analyse_reference(text, tmp_path / "c")
    noise = _tone(tmp_path / "noise.wav", 6, "anoisesrc=r=16000:a=0.3:c=white")
    with pytest.raises(MediaError, match="no voice to measure"):
        voice_match.analyse_reference(noise, tmp_path / "d")
    with pytest.raises(MediaError, match="cannot be read"):
        voice_match.match_voice(tmp_path / "missing.wav", "ar", cache)


def test_voice_like_is_a_storyboard_field_and_a_media_reference(tmp_path: Path) -> None:
    from reelforge.kinds.video import VideoRequest, media_fields
    from reelforge.spec.load import load_spec

    recording = _tone(tmp_path / "me.wav", 6, "sine=f=180")
    script = tmp_path / "s.md"
    script.write_text("# t\n\n## one\n\nHello there.\n")
    board = load_spec(script, voice_like=str(recording))
    assert board.voice_like == str(recording.resolve())
    with pytest.raises(MediaError, match="voice reference"):
        load_spec(script, voice_like=str(tmp_path / "nope.wav"))
    request = VideoRequest.model_validate({"storyboard": {"scenes": ["Hi."], "voice_like": "x"}})
    fields = {f.field: f.kinds for f in media_fields(request)}
    assert fields["voice_like"] == ("audio",)


@needs_espeak
def test_make_reports_the_match_in_the_manifest(tmp_path: Path) -> None:
    import reelforge

    reference = _reference(tmp_path, "ar-adult-male", "f0=1.25;envelope=1.08")
    board = reelforge.parse_storyboard(
        {
            "voice": "ar-adult-male",
            "voice_like": str(reference),
            "music": "none",
            "resolution": 180,
            "scenes": ["مرحبا بكم في بيتنا الجميل."],
        }
    )
    made = reelforge.make(board, tmp_path / "out.mp4", preview=True, cache_dir=tmp_path / "c")
    manifest = json.loads(made.manifest.read_text())
    (entry,) = manifest["voice_match"]
    assert entry["base_voice"] == "ar-adult-male" and entry["language"] == "ar"
    assert entry["distance_after"]["f0_semitones"] < entry["distance_before"]["f0_semitones"]
    assert manifest["scenes"][0]["voice"].startswith("ar-adult-male-like-")
    with wave.open(str(next((tmp_path / "c" / "voice").glob("*/*.wav"))), "rb") as wav:
        assert wav.getnframes() > 0


def test_the_service_takes_an_uploaded_recording_for_voice_like() -> None:
    pytest.importorskip("sqlalchemy")
    from reelforge import kinds
    from reelforge.service.models import Media
    from reelforge.service.requests import check_media, video_request

    uploads = {
        "a" * 32: Media(id="a" * 32, kind="audio", extension=".wav"),
        "b" * 32: Media(id="b" * 32, kind="image", extension=".png"),
    }
    board = {"scenes": ["Hello there."], "voice_like": "media:" + "a" * 32}
    request = video_request({"storyboard": board}, uploads.get)
    assert request.storyboard.voice_like == f"media:{'a' * 32}.wav"
    assert check_media(kinds.get("video"), request, uploads.get)
    image = video_request({"storyboard": {**board, "voice_like": "media:" + "b" * 32}}, uploads.get)
    with pytest.raises(SpecError, match="voice_like: .* is image, this field takes audio"):
        check_media(kinds.get("video"), image, uploads.get)
