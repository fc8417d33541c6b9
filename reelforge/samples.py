"""Samples of the catalogue, to hear and see before choosing: a voice reading one fixed
sentence in its own language, a few seconds of a music mood, and a still of a template (its
title card over its own picture style, planned and drawn by the real pipeline). The studio
shows them beside its selects and in its template gallery; ``reelforge.sample_voice``,
``reelforge.sample_music`` and ``reelforge.sample_template`` are the verbs.

Sounds are small AAC files (``.m4a``, 64 kb/s): every browser plays them, and a voice sample
of four seconds is about 35 KB. Template stills are 320x180 JPEGs of about 15 KB.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from reelforge import __version__
from reelforge.engines import registry
from reelforge.engines.base import MusicRequest, SpeechRequest
from reelforge.errors import RenderError, SpecError

SAMPLE_SUFFIX = ".m4a"
SAMPLE_MEDIA_TYPE = "audio/mp4"
MUSIC_SAMPLE_MS = 8000
TEMPLATE_SAMPLE_SIZE = (320, 180)

# One short sentence per language, what a narrator would say first. A language without an
# entry reads the English one (a voice added later still has a sample).
SENTENCES: dict[str, str] = {
    "en": "Hello! This is how I sound when I narrate your video.",
    "fr": "Bonjour ! Voici ma voix quand je raconte votre vidéo.",
    "es": "¡Hola! Así suena mi voz cuando narro tu vídeo.",
    "de": "Hallo! So klingt meine Stimme, wenn ich Ihr Video spreche.",
    "it": "Ciao! Ecco come suona la mia voce quando racconto il tuo video.",
    "pt": "Olá! É assim que soa a minha voz quando narro o seu vídeo.",
    "nl": "Hallo! Zo klinkt mijn stem als ik jouw video inspreek.",
    "ru": "Здравствуйте! Так звучит мой голос, когда я озвучиваю ваше видео.",
    "tr": "Merhaba! Videonuzu anlatırken sesim böyle duyulur.",
    "ar": "مرحبا! هكذا يبدو صوتي عندما أروي الفيديو الخاص بك.",
    "he": "שלום! כך נשמע הקול שלי כשאני מקריין את הסרטון שלך.",
    "hi": "नमस्ते! आपके वीडियो के लिए यह मेरी आवाज़ है।",
    "bn": "নমস্কার! আপনার ভিডিওর জন্য এটি আমার কণ্ঠ।",
    "ta": "வணக்கம்! உங்கள் வீடியோவுக்கான என் குரல் இது.",
    "th": "สวัสดี นี่คือเสียงที่จะเล่าเรื่องในวิดีโอของคุณ",
    "ja": "こんにちは。これがあなたの動画を読み上げる声です。",
    "ko": "안녕하세요! 이것이 당신의 영상을 읽어 줄 목소리입니다.",
    "yue": "你好！呢個就係幫你段片配音嘅聲音。",
}


def sentence_for(language: str) -> str:
    """The sample sentence a voice of ``language`` reads."""
    return SENTENCES.get(language, SENTENCES["en"])


def voice_sample_tag(voice: str) -> str:
    """What a voice sample depends on (voice, engine and its version, sentence, reelforge):
    a cache of samples keyed by it is never stale."""
    from reelforge.voices import resolve_voice

    info = resolve_voice(voice, "en")
    engine = registry.get("voice", info.engine).info()
    return _digest(info.id, info.engine, engine.version, sentence_for(info.language))


def music_sample_tag(mood: str, engine: str = "procedural") -> str:
    """What a music sample depends on (mood, engine and version, length, reelforge)."""
    _check_mood(mood, engine)
    version = registry.get("music", engine).info().version
    return _digest(mood, engine, version, str(MUSIC_SAMPLE_MS))


def template_sample_tag(name: str) -> str:
    """What a template still depends on (the template's fields, its visual engines'
    versions, reelforge)."""
    import json

    from reelforge.spec.templates import get_template

    fields = json.dumps(get_template(name).to_dict(), sort_keys=True)
    versions = [registry.get("visuals", n).info().version for n in registry.names("visuals")]
    return _digest(name, fields, *versions)


def template_title(name: str) -> str:
    """The title a template's still shows: its name in words ("Real estate")."""
    words = name.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join([*parts, __version__]).encode()).hexdigest()[:16]


def _check_mood(mood: str, engine: str) -> None:
    moods = registry.choices("music", engine)
    if mood not in moods:
        raise SpecError(
            f"unknown music mood {mood!r}", hint=f"moods of {engine}: {', '.join(moods)}"
        )


def sample_voice(voice: str, output: str | Path) -> Path:
    """Write ``output`` (.m4a): voice ``voice`` (a catalogue id such as ``en-adult-male``)
    reading the sample sentence of its language. SpecError for an unknown voice."""
    from reelforge.voices import resolve_voice

    info = resolve_voice(voice, "en")
    engine = registry.get("voice", info.engine)
    request = SpeechRequest(
        text=sentence_for(info.language), language=info.language, voice=info.engine_voice
    )
    with tempfile.TemporaryDirectory(prefix="reelforge-sample-") as work:
        spoken = engine.synthesize(request, Path(work))
        _encode(spoken.audio, Path(output), channels=1, fade_out_ms=0)
    return Path(output)


def sample_music(mood: str, output: str | Path, engine: str = "procedural") -> Path:
    """Write ``output`` (.m4a): eight seconds of music in ``mood``, composed by the music
    engine ``engine``, fading out. SpecError for a mood the engine does not have."""
    _check_mood(mood, engine)
    composer = registry.get("music", engine)
    with tempfile.TemporaryDirectory(prefix="reelforge-sample-") as work:
        composed = composer.compose(MusicRequest(mood, MUSIC_SAMPLE_MS), Path(work))
        _encode(composed.audio, Path(output), channels=2, fade_out_ms=1500)
    return Path(output)


def _encode(source: Path, output: Path, *, channels: int, fade_out_ms: int) -> None:
    from reelforge.media.ffmpeg import atomic_output, run_ffmpeg

    filters = ["aresample=44100"]
    seconds = None
    if fade_out_ms:
        seconds = MUSIC_SAMPLE_MS / 1000
        start = seconds - fade_out_ms / 1000
        filters.append(f"afade=t=out:st={start:.3f}:d={fade_out_ms / 1000:.3f}")
    args = ["-y", "-f", "wav", "-i", str(source), "-vn", "-af", ",".join(filters)]
    if seconds is not None:
        args += ["-t", f"{seconds:.3f}"]
    args += ["-ac", str(channels), "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]
    with atomic_output(output) as partial:
        run_ffmpeg([*args, "-f", "mp4", str(partial)], timeout=60)


def sample_template(name: str, output: str | Path) -> Path:
    """Write ``output`` (JPEG, 320x180): a still of template ``name``, a one-scene storyboard
    titled with the template's name, planned with its palette, picture style, title font and
    grade, and drawn by the frame compositor at the frame a video's thumbnail would use.
    SpecError for an unknown template."""
    import cv2

    import reelforge
    from reelforge.media.ffmpeg import atomic_output
    from reelforge.render.compositor import Compositor
    from reelforge.render.runner import thumbnail_frames
    from reelforge.spec.templates import get_template

    template = get_template(name)
    storyboard = reelforge.parse_storyboard(
        {
            "template": template.name,
            "title": template_title(template.name),
            "format": "16:9",
            "music": {"enabled": False},
            "scenes": [{"narration": "", "duration": 2}],
        }
    )
    with tempfile.TemporaryDirectory(prefix="reelforge-sample-") as work:
        timeline = reelforge.plan_video(storyboard, work, preview=True).timeline
        compositor = Compositor(timeline)
        try:
            frame = compositor.frame(thumbnail_frames(timeline)[0])
        finally:
            compositor.close()
    small = cv2.resize(frame, TEMPLATE_SAMPLE_SIZE, interpolation=cv2.INTER_AREA)
    with atomic_output(Path(output)) as partial:
        ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise RenderError(f"could not encode the still of template {name!r}")
        partial.write_bytes(data.tobytes())
    return Path(output)
