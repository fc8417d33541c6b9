"""Narration: each scene's language and voice, speech synthesised (and cached) or a given
recording, and the captions from the voice's own word timings, grouped per scene so they never
outrun it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, VoiceEngine, VoiceInfo
from reelforge.errors import SpecError
from reelforge.plan.timing import Slot, lead_ms
from reelforge.spec.model import SceneSpec, Storyboard
from reelforge.text.language import primary_language
from reelforge.timeline import AudioTrack, CaptionLine, CaptionStyle, TimedWord

if TYPE_CHECKING:
    from reelforge.voice_match import VoiceMatch

Progress = Callable[[str, float], None]

VOICE_WORKERS = 4  # scenes synthesised at once (bounded by the CPU count)


@dataclass(frozen=True)
class Speech:
    audio: Path
    duration_ms: int
    words: tuple[TimedWord, ...]
    language: str
    voice: str
    engine: str


@dataclass(frozen=True)
class Narration:
    """What is said: per scene its speech (None when silent or when a recording is given)."""

    speech: tuple[Speech | None, ...]
    recording: AudioTrack | None = None  # a given narration recording, from the start
    recording_ms: int = 0
    recording_words: tuple[TimedWord, ...] = ()  # the recording's given word timings
    engine: dict[str, str] | None = None  # for the manifest: name ("piper+espeak") and version
    # per language, the voice moved toward ``voice_like`` and how close it came (manifest)
    matches: tuple[VoiceMatch, ...] = ()


# --------------------------------------------------------------------------- languages


def scene_language(sb: Storyboard, scene: SceneSpec) -> str:
    from reelforge.text.language import detect_language_tag

    if scene.language:
        return scene.language
    if sb.language:
        return sb.language
    return detect_language_tag(scene.narration or scene.title or sb.title or "")


def check_languages(sb: Storyboard) -> None:
    """A language the user names must be one some voice speaks, even when a voice is given;
    a narration must be written in a script some voice reads (else a voice of another language
    would read letters it cannot say)."""
    from reelforge.text.language import unknown_script

    for number, scene in enumerate(sb.scenes, 1):
        script = unknown_script(scene.narration)
        if script and sb.narration is None:
            raise SpecError(
                f"scene {number} is written in {script} script, which no voice here reads",
                hint="narrate it in a language `reelforge voices` lists (in that language's "
                "script), or give a recorded narration (narration: {audio: ...})",
            )
    given = sorted({lang for lang in (sb.language, *(s.language for s in sb.scenes)) if lang})
    if not given:
        return
    from reelforge.voices import catalog

    known = {voice.language for voice in catalog()}
    for language in given:
        if primary_language(language) not in known:
            raise SpecError(
                f"unknown language {language!r}",
                hint=f"use a language code such as {', '.join(sorted(known))}, or leave it "
                "out to detect it from the text; `reelforge voices` lists every voice",
            )


# --------------------------------------------------------------------------- speech


def narrate(
    sb: Storyboard, languages: Sequence[str], cache: Path, progress: Progress | None
) -> Narration:
    """The given recording (with its word timings), or each scene's speech synthesised."""
    if sb.narration is None:
        matches = match_voices(sb, languages, cache)
        speech = synthesize_all(sb, languages, cache, progress, {m.language: m for m in matches})
        return Narration(speech, engine=_voice_engines(speech), matches=tuple(matches))
    from reelforge.media.probe import check_audio

    words: tuple[TimedWord, ...] = ()
    if sb.narration.words:
        from reelforge.captions.formats import read_captions
        from reelforge.captions.lines import words_from_lines

        words = words_from_lines(read_captions(Path(sb.narration.words)))
    return Narration(
        (None,) * len(sb.scenes),
        recording=AudioTrack(sb.narration.path, "narration"),
        recording_ms=check_audio(Path(sb.narration.path)).duration_ms,
        recording_words=words,
        engine={"name": "given", "version": Path(sb.narration.path).name},
    )


def _voice_engines(speech: Sequence[Speech | None]) -> dict[str, str] | None:
    """The voice engines that spoke, joined by "+", and the first one's version."""
    found: dict[str, str] | None = None
    for result in speech:
        if result is None:
            continue
        info = registry.get("voice", result.engine).info()
        if found is None:
            found = {"name": info.name, "version": info.version}
        elif info.name not in found["name"].split("+"):
            found["name"] += "+" + info.name
    return found


def match_voices(sb: Storyboard, languages: Sequence[str], cache: Path) -> list[VoiceMatch]:
    """With ``voice_like``: for each language a scene without its own voice speaks, the voice
    moved toward the recording (reelforge.voice_match)."""
    if not sb.voice_like:
        return []
    from reelforge.voice_match import PROBES, match_voice

    wanted: dict[str, str] = {}  # language -> the probe text
    for scene, language in zip(sb.scenes, languages, strict=True):
        if scene.narration.strip() and not scene.voice and language not in wanted:
            wanted[language] = PROBES.get(primary_language(language), scene.narration[:300])
    return [
        match_voice(Path(sb.voice_like), language, cache, voice=sb.voice, probe=probe)
        for language, probe in wanted.items()
    ]


def synthesize_all(
    sb: Storyboard,
    languages: Sequence[str],
    cache: Path,
    progress: Progress | None,
    matches: dict[str, VoiceMatch] | None = None,
) -> tuple[Speech | None, ...]:
    """Each scene's narration, synthesised on up to VOICE_WORKERS threads at once.

    Engines that declare ``concurrent = True`` (Piper: one single-threaded ONNX session shared
    by the threads) run scenes side by side; others run one scene at a time behind a lock.
    ``matches`` (language -> voice match) speak the scenes that name no voice of their own.
    """
    matched = matches or {}
    scenes = sb.scenes
    todo = [i for i, scene in enumerate(scenes) if scene.narration.strip()]
    out: list[Speech | None] = [None] * len(scenes)
    if not todo:
        return tuple(out)
    from reelforge.voices import side_by_side

    def speak(i: int) -> Speech:
        voice = scenes[i].voice or sb.voice
        match = None if scenes[i].voice or languages[i] not in matched else matched[languages[i]]
        return speech_for(scenes[i], languages[i], voice, sb.speed, cache, sb.pitch, match)

    for i, speech in zip(todo, side_by_side(speak, todo, VOICE_WORKERS, progress), strict=True):
        out[i] = speech
    return tuple(out)


def speech_for(
    scene: SceneSpec,
    language: str,
    voice_id: str | None,
    speed: float,
    cache: Path,
    pitch: float = 0.0,
    match: VoiceMatch | None = None,
) -> Speech:
    """The scene's speech: from the cache when the same words were said in the same voice
    (edits re-render only what changed), else synthesised and cached. A ``match`` speaks
    instead of ``voice_id``'s voice."""
    from reelforge.text import normalise
    from reelforge.voices import resolve_voice

    voice = match.voice if match is not None else resolve_voice(voice_id, language)
    engine = registry.get("voice", voice.engine)
    parts: list[object] = [
        voice.engine,
        engine.info().version,
        voice.engine_voice,
        voice.transform,
        scene.narration,
        speed,
        language,
    ]
    # What is said when it differs from what is written (numbers in words...), and a pitch
    # shift: only when they apply, so other narrations keep their cached speech.
    said = normalise.normalise(scene.narration, language)
    if said.changed:
        parts.append(said.text)
    if pitch:
        parts.append(pitch)
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]
    folder = cache / "voice" / key
    if not (folder / "speech.json").is_file():
        request = SpeechRequest(scene.narration, language, voice.engine_voice, speed, pitch)
        _synthesize_into(folder, engine, voice, request)
    data = json.loads((folder / "speech.json").read_text())
    return Speech(
        folder / data["audio"],
        data["duration_ms"],
        tuple(TimedWord(w[0], w[1], w[2]) for w in data["words"]),
        language,
        voice.id,
        voice.engine,
    )


def _synthesize_into(
    folder: Path, engine: VoiceEngine, voice: VoiceInfo, request: SpeechRequest
) -> None:
    """Synthesise into a fresh folder, then move it to ``folder`` in one rename."""
    from reelforge.voices import speak_in_turn

    tmp = folder.with_name(f"{folder.name}.{uuid.uuid4().hex[:8]}.tmp")  # threads may race
    tmp.mkdir(parents=True)
    result = speak_in_turn(engine, voice, request, tmp)
    audio = Path(result.audio)
    if audio.parent != tmp:
        shutil.copy(audio, tmp / audio.name)
    words = [[w.text, w.start_ms, w.end_ms] for w in result.words]
    (tmp / "speech.json").write_text(
        json.dumps({"audio": audio.name, "duration_ms": result.duration_ms, "words": words})
    )
    shutil.rmtree(folder, ignore_errors=True)
    try:
        tmp.rename(folder)
    except OSError:  # the same narration finished on another thread first: use that one
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "speech.json").is_file():
            raise


# --------------------------------------------------------------------------- placement


def placed(
    narration: Narration,
    all_slots: Sequence[Slot],
    fps: int,
    style: CaptionStyle,
) -> tuple[list[AudioTrack], list[CaptionLine]]:
    """The narration tracks, each scene's at its slot's lead-in, and their caption lines."""
    from reelforge.captions.lines import group_words

    tracks = [narration.recording] if narration.recording is not None else []
    lines: list[CaptionLine] = []
    for i, speech in enumerate(narration.speech):
        if speech is None:
            continue
        start_ms = all_slots[i][0] * 1000 // fps + lead_ms(i)
        tracks.append(AudioTrack(str(speech.audio), "narration", start_ms))
        shifted = [w.shifted(start_ms) for w in speech.words]
        lines.extend(group_words(shifted, speech.language, style.max_words, style.max_chars))
    return tracks, lines


def caption_lines(
    sb: Storyboard,
    narration: Narration,
    spoken: list[CaptionLine],
    style: CaptionStyle,
    language: str,
    end_ms: int,
) -> list[CaptionLine]:
    """A captions file as given; else the lines of the spoken or given words, one at a time."""
    if sb.captions.file:
        from reelforge.captions.formats import read_captions

        return list(read_captions(Path(sb.captions.file)))
    lines = spoken
    if narration.recording_words:
        from reelforge.captions.lines import group_words

        words = narration.recording_words
        lines = list(group_words(words, language, style.max_words, style.max_chars))
    return one_line_at_a_time(lines, end_ms)


def one_line_at_a_time(lines: list[CaptionLine], end_ms: int) -> list[CaptionLine]:
    """A line's hold after its last word ends where the next line starts, across scenes too
    (lines are grouped per scene, and the next scene may start speaking within the hold), and
    where the video ends."""
    out = list(lines)
    for k, line in enumerate(out):
        limit = out[k + 1].start_ms if k + 1 < len(out) else end_ms
        if line.end_ms > limit:
            last_word = line.words[-1].end_ms if line.words else line.start_ms
            out[k] = dataclasses.replace(line, end_ms=max(limit, last_word))
    return out
