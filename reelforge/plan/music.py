"""Music: a given file looped under the video, or composed by the music engine named in the
storyboard. Composing starts first, on its own thread, for a generous estimate of the length,
so it runs while the voices are synthesised; it is composed again only if too short.
"""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reelforge.engines import registry
from reelforge.engines.base import MusicRequest
from reelforge.spec.model import Storyboard
from reelforge.spec.templates import Template
from reelforge.text.language import detect_language
from reelforge.timeline import AudioTrack

Music = tuple[list[AudioTrack], dict[str, str] | None]  # the tracks and the engine's facts

# A culture the story names and the template's mood -> the regional mood heard instead, when
# the storyboard names no mood: a promo for an Algiers restaurant gets Maghreb music, a Hindi
# explainer Indian classical. News (dramatic) and podcasts (lofi) keep their own.
REGIONAL_MOODS: dict[tuple[str, str], str] = {
    **{(culture, mood): "maghreb" for culture in ("algerian", "maghreb")
       for mood in ("upbeat", "corporate", "calm")},
    ("indian", "upbeat"): "bollywood",
    ("indian", "corporate"): "bollywood",
    ("indian", "calm"): "indian",
    ("indian", "playful"): "bollywood",
}  # fmt: skip


def chosen_mood(sb: Storyboard, template: Template) -> tuple[str, str]:
    """The mood to compose and why: the storyboard's, else the template's, or the regional
    mood of the culture the story names (by a place, a demonym or its language)."""
    if sb.music.mood:
        return sb.music.mood, ""
    from reelforge.plan.prompts import culture_of

    story = " ".join([sb.title, *(f"{s.title or ''} {s.narration}" for s in sb.scenes)])
    culture, word = culture_of(story, sb.language or detect_language(story))
    regional = REGIONAL_MOODS.get((culture, template.music_mood))
    if regional and regional in registry.choices("music", sb.music.engine):
        return regional, f"the story is {culture} ({word or 'its language'})"
    return template.music_mood, ""


def music(sb: Storyboard, template: Template, duration_ms: int, workdir: Path) -> Music:
    """The music track (a given file, or composed) and its engine, for the manifest."""
    if not sb.music.enabled:
        return [], None
    if sb.music.path:  # checked by planning before any engine ran
        track = AudioTrack(
            sb.music.path,
            "music",
            0,
            sb.music.volume_db,
            loop=True,
            fade_in_ms=500,
            fade_out_ms=2000,
        )
        return [track], {"name": "given", "version": Path(sb.music.path).name}
    engine = registry.get("music", sb.music.engine)
    mood, why = chosen_mood(sb, template)
    seed = sb.music.seed if sb.music.seed is not None else sb.seed
    result = engine.compose(MusicRequest(mood, duration_ms + 500, seed), workdir)
    info = engine.info()
    track = AudioTrack(str(result.audio), "music", 0, sb.music.volume_db, fade_out_ms=1500)
    facts = {"name": info.name, "version": info.version, "mood": mood}
    return [track], facts | ({"why": why} if why else {})


class Composer:
    """The music, composed on its own thread from an estimate of the video's length."""

    def __init__(self, sb: Storyboard, template: Template, estimate_ms: int, workdir: Path) -> None:
        self.sb, self.template, self.workdir = sb, template, workdir
        self.estimate_ms = estimate_ms
        self.seconds = 0.0  # time spent composing, for the timings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="music")
        # In a copy of this context, so a job's Cancellation reaches the composer's processes.
        self._job: Future[Music] = self._pool.submit(
            contextvars.copy_context().run, self._compose, estimate_ms
        )

    def _compose(self, duration_ms: int) -> Music:
        started = time.perf_counter()
        try:
            return music(self.sb, self.template, duration_ms, self.workdir)
        finally:
            self.seconds += time.perf_counter() - started

    def result(self, duration_ms: int) -> Music:
        """The music for a video of ``duration_ms``: composed again when the estimate was
        short."""
        tracks, engine = self._job.result()
        self._pool.shutdown()
        if self.estimate_ms < duration_ms and engine and engine["name"] != "given":
            tracks, engine = self._compose(duration_ms)
        return tracks, engine
