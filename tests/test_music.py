"""The procedural music engine: composition (pretty-midi) and rendering (fluidsynth CLI)."""

from __future__ import annotations

import shutil
import time
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pretty_midi")

from reelforge.engines.base import MusicEngine, MusicRequest  # noqa: E402
from reelforge.engines.music import procedural  # noqa: E402
from reelforge.engines.music.procedural import (  # noqa: E402
    MOOD_SPECS,
    MOODS,
    ProceduralMusic,
    compose_midi,
    note_list,
)
from reelforge.errors import EngineUnavailable, SpecError  # noqa: E402

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or procedural.find_soundfont() is None,
    reason="fluidsynth or a GM soundfont is not installed",
)
DURATION_MS = 8000


def _read(path: Path) -> tuple[np.ndarray, int, int, int]:
    with wave.open(str(path)) as wav:
        frames = wav.readframes(wav.getnframes())
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
    return np.frombuffer(frames, "<i2").reshape(-1, channels) / 32768.0, channels, width, rate


@pytest.fixture(scope="module", params=list(MOODS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("fluidsynth") is None or procedural.find_soundfont() is None:
        pytest.skip("fluidsynth or a GM soundfont is not installed")
    mood = request.param
    start = time.perf_counter()
    result = ProceduralMusic().compose(
        MusicRequest(mood=mood, duration_ms=DURATION_MS, seed=3), tmp_path_factory.mktemp(mood)
    )
    return mood, result, time.perf_counter() - start


def test_every_mood_is_documented_and_listed() -> None:
    engine = ProceduralMusic()
    assert isinstance(engine, MusicEngine)
    assert engine.moods() == list(MOODS)
    required = {"cinematic", "upbeat", "calm", "corporate", "playful", "dramatic", "lofi"}
    assert required | {"indian"} <= set(MOODS)
    assert all(len(text) > 20 and "\n" not in text for text in MOODS.values())


def test_render_is_quick_and_well_formed(rendered) -> None:
    mood, result, seconds = rendered
    assert seconds < 20, f"{mood}: 8 s of music took {seconds:.1f} s"  # ~0.6 s on a free core
    assert (result.mood, result.engine, result.sample_rate) == (mood, "procedural", 44100)
    low, high = MOOD_SPECS[mood].tempo
    assert low <= result.tempo_bpm <= high
    samples, channels, width, rate = _read(result.audio)
    assert (channels, width, rate) == (2, 2, 44100)
    assert abs(len(samples) / rate * 1000 - DURATION_MS) <= 50
    assert result.duration_ms == DURATION_MS


def test_render_level_and_continuity(rendered) -> None:
    mood, result, _ = rendered
    samples, _, _, rate = _read(result.audio)
    peak_db = 20 * np.log10(np.abs(samples).max())
    assert -4.0 <= peak_db <= -2.5, f"{mood}: peak {peak_db:.2f} dBFS"
    # Every 2 s window before the fade-out carries music.
    fade_start = len(samples) - 2 * rate
    for start in range(0, fade_start - 2 * rate + 1, rate // 2):
        window = samples[start : start + 2 * rate]
        rms_db = 20 * np.log10(np.sqrt(np.mean(window**2)) + 1e-12)
        assert rms_db > -40, f"{mood}: near-silent at {start / rate:.1f} s ({rms_db:.1f} dBFS)"
    # The fade-out ends (almost) in silence, and so does the very first sample.
    assert np.abs(samples[-rate // 100 :]).max() < 0.01
    assert np.abs(samples[0]).max() < 0.01


@pytest.mark.parametrize("mood", list(MOODS))
def test_same_seed_same_notes_other_seed_other_notes(mood: str) -> None:
    first = note_list(compose_midi(mood, 20.0, seed=11))
    assert first, "no notes"
    assert first == note_list(compose_midi(mood, 20.0, seed=11))
    assert first != note_list(compose_midi(mood, 20.0, seed=12))


@pytest.mark.parametrize("mood", list(MOODS))
def test_composition_covers_duration_and_ends_on_the_tonic(mood: str) -> None:
    pm = compose_midi(mood, 60.0, seed=5)
    end = max(n.end for inst in pm.instruments for n in inst.notes)
    assert 61.0 <= end <= 62.0 + 1e-6  # the requested minute plus the tail the fade runs over
    tonic = pm.key_signature_changes[0].key_number % 12
    lowest_at_end = min(
        n.pitch
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
        if n.start <= 59.0 < n.end
    )
    assert lowest_at_end % 12 == tonic
    drums = [inst for inst in pm.instruments if inst.is_drum]
    assert bool(drums) == (MOOD_SPECS[mood].drums is not None)
    # The intro is the pad alone (plus the tanpura drone for "indian").
    # (less the few ms of humanised timing that may pull a note ahead of the bar)
    beats = pm.time_signature_changes[0].numerator
    first_bar_s = beats * 60.0 / pm.get_tempo_changes()[1][0] - 0.05
    early = {inst.name for inst in pm.instruments for n in inst.notes if n.start < first_bar_s}
    assert early <= {"pad", "comp"} if MOOD_SPECS[mood].drone else early == {"pad"}
    # A melody and, where the mood has them, drums arrive after the intro.
    names = {inst.name for inst in pm.instruments if inst.notes}
    assert "melody" in names
    assert not drums or drums[0].notes


def test_indian_mood_sits_on_a_raga_with_sitar_drone_and_tabla() -> None:
    for seed in range(4):
        pm = compose_midi("indian", 40.0, seed=seed)
        sa = pm.key_signature_changes[0].key_number % 12
        by_name = {inst.name: inst for inst in pm.instruments}
        assert by_name["melody"].program == 104  # Sitar
        assert {n.pitch % 12 for n in by_name["pad"].notes} == {sa, (sa + 7) % 12}  # Sa-Pa
        ragas = (procedural.RAGA_YAMAN, procedural.RAGA_BHAIRAV)
        melody_pcs = {(n.pitch - sa) % 12 for n in by_name["melody"].notes}
        assert any(melody_pcs <= set(raga) for raga in ragas)
        tabla = {n.pitch for n in by_name["drums"].notes}
        assert {procedural.LOW_CONGA, procedural.OPEN_HI_CONGA} <= tabla


def test_tempo_override_is_used() -> None:
    pm = compose_midi("upbeat", 10.0, seed=1, tempo_bpm=90)
    assert round(pm.get_tempo_changes()[1][0]) == 90


@needs_fluidsynth
def test_tempo_override_reaches_the_result(tmp_path: Path) -> None:
    result = ProceduralMusic().compose(
        MusicRequest(mood="calm", duration_ms=3000, seed=1, tempo_bpm=80), tmp_path
    )
    assert result.tempo_bpm == 80
    assert abs(len(_read(result.audio)[0]) - 3 * 44100) <= 1


def test_unknown_mood_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        ProceduralMusic().compose(MusicRequest(mood="polka", duration_ms=5000), tmp_path)
    assert "cinematic" in err.value.hint and "indian" in err.value.hint
    with pytest.raises(SpecError):
        compose_midi("polka", 5.0, seed=0)


def test_bad_duration_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError):
        ProceduralMusic().compose(MusicRequest(mood="calm", duration_ms=0), tmp_path)


def test_missing_fluidsynth_is_unavailable_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procedural.shutil, "which", lambda name: None)
    with pytest.raises(EngineUnavailable) as err:
        ProceduralMusic().compose(MusicRequest(mood="calm", duration_ms=2000), tmp_path)
    assert "apt-get install fluidsynth" in err.value.hint
    info = ProceduralMusic().info()
    assert not info.available and "fluidsynth" in info.reason


# --------------------------------------------------------------------------- regional moods
REGIONAL = ("maghreb", "bollywood", "devotional", "epic", "lullaby")
# mood -> (program per part, GM percussion keys that must sound, beats a bar)
INSTRUMENTS: dict[str, tuple[dict[str, int], set[int], int]] = {
    "maghreb": (
        {"pad": 49, "comp": 107, "bass": 32, "melody": 24},  # drone, qanun, guembri, oud
        {procedural.DUM, procedural.TEK, procedural.KA, procedural.RIQ},
        4,
    ),
    "bollywood": (
        {"pad": 48, "comp": 15, "bass": 33, "melody": 73},  # strings, santoor, bass, bansuri
        {procedural.GE, procedural.NA, procedural.TI, procedural.CLAP},
        4,
    ),
    "devotional": (
        {"pad": 20, "comp": 14, "melody": 21},  # harmonium drone, temple bells, harmonium
        {procedural.OPEN_TRIANGLE, procedural.MUTE_TRIANGLE, procedural.GE},
        4,
    ),
    "epic": (
        {"pad": 52, "comp": 48, "bass": 43, "hits": 47, "melody": 61},  # choir ... timpani, brass
        {procedural.LOW_FLOOR_TOM, procedural.HIGH_FLOOR_TOM, procedural.SNARE},
        4,
    ),
    "lullaby": ({"pad": 89, "comp": 8, "melody": 10}, set(), 3),  # pad, celesta, music box
}


def _parts(pm) -> dict:
    return {inst.name: inst for inst in pm.instruments}


def test_regional_moods_are_listed_and_described() -> None:
    assert set(REGIONAL) <= set(MOODS)
    assert set(INSTRUMENTS) == set(REGIONAL)


@pytest.mark.parametrize("mood", REGIONAL)
def test_regional_mood_plays_its_instruments_and_percussion(mood: str) -> None:
    programs, percussion, meter = INSTRUMENTS[mood]
    pm = compose_midi(mood, 40.0, seed=2)
    parts = _parts(pm)
    assert {name: parts[name].program for name in programs} == programs
    assert all(parts[name].notes for name in programs)
    assert pm.time_signature_changes[0].numerator == meter
    drums = [inst for inst in pm.instruments if inst.is_drum]
    if percussion:
        assert percussion <= {n.pitch for n in drums[0].notes}
    else:
        assert not drums  # the lullaby has no drums
    # Every pitched note is in the piece's scale (the qanun's runs and the ornaments too).
    tonic = pm.key_signature_changes[0].key_number % 12
    pcs = {(n.pitch - tonic) % 12 for i in pm.instruments if not i.is_drum for n in i.notes}
    assert any(pcs <= set(scale) for scale in MOOD_SPECS[mood].scales), sorted(pcs)


@pytest.mark.parametrize("duration", [10.0, 30.0, 95.0])
@pytest.mark.parametrize("mood", REGIONAL)
def test_sections_fit_the_length(mood: str, duration: float) -> None:
    ctx = procedural._plan(mood, duration, 4, None)
    kinds = [s.kind for s in ctx.sections]
    assert kinds[0] == "intro" and "lift" in kinds
    if duration >= 30:
        assert kinds[-1] == "outro" and "main" in kinds
    # The sections tile the bars up to the final chord, which starts before the fade-out.
    assert [s.start_bar for s in ctx.sections[1:]] == [
        s.start_bar + s.bars for s in ctx.sections[:-1]
    ]
    assert ctx.sections[-1].start_bar + ctx.sections[-1].bars == ctx.final_bar
    final_s = ctx.final_bar * ctx.bar_s
    assert duration - procedural.FADE_OUT_S - ctx.bar_s < final_s <= duration - 0.5
    pm = compose_midi(mood, duration, seed=4)
    end = max(n.end for inst in pm.instruments for n in inst.notes)
    assert end == pytest.approx(duration + procedural.TAIL_S, abs=0.25)


def test_maghreb_has_maqam_qanun_runs_oud_tremolo_and_ornaments() -> None:
    bends = 0
    for seed in range(3):
        pm = compose_midi("maghreb", 40.0, seed=seed)
        parts = _parts(pm)
        bpm = pm.get_tempo_changes()[1][0]
        beat = 60.0 / bpm
        # Qanun: at least one run of 8 notes, 32nds apart, moving by scale steps one way.
        comp = sorted(parts["comp"].notes, key=lambda n: n.start)
        runs = 0
        for i in range(len(comp) - 8):
            window = comp[i : i + 8]
            gaps = [b.start - a.start for a, b in zip(window, window[1:], strict=False)]
            steps = [b.pitch - a.pitch for a, b in zip(window, window[1:], strict=False)]
            if all(abs(g - beat / 8) < 0.02 for g in gaps) and all(-4 <= s < 0 for s in steps):
                runs += 1
        assert runs, "no qanun run"
        # Oud: risha tremolo (the same pitch restruck every 32nd) and pitch-bend slides.
        melody = sorted(parts["melody"].notes, key=lambda n: n.start)
        restruck = sum(
            1
            for a, b in zip(melody, melody[1:], strict=False)
            if a.pitch == b.pitch and abs(b.start - a.start - beat / 8) < 0.01
        )
        assert restruck >= 8
        bends += sum(1 for b in parts["melody"].pitch_bends if b.pitch != 0)
        # The mode is a maqam with its characteristic interval: Hijaz's b2 and major 3rd,
        # Nahawand's leading tone, Kurd's b2 with a minor 3rd.
        tonic = pm.key_signature_changes[0].key_number % 12
        pcs = {(n.pitch - tonic) % 12 for n in melody}
        maqamat = (procedural.HIJAZ, procedural.NAHAWAND, procedural.KURD)
        assert any(pcs <= set(m) for m in maqamat)
        # Dum on the downbeat of every grooving bar.
        dums = [n for n in parts["drums"].notes if n.pitch == procedural.DUM]
        assert len(dums) >= 10
    assert bends, "no slides (pitch bends) in the oud's line"


def test_lullaby_is_in_three_and_soft() -> None:
    pm = compose_midi("lullaby", 30.0, seed=1)
    bar = 3 * 60.0 / pm.get_tempo_changes()[1][0]
    parts = _parts(pm)
    # The celesta rocks in 8ths: six strikes a bar, the first accented.
    comp = [n for n in parts["comp"].notes if n.start < 25.0]
    first_bar = min(round(n.start / bar) for n in comp)
    in_bar = [n for n in comp if round(n.start / bar - 0.49) == first_bar]
    assert len(in_bar) == 6
    assert in_bar[0].velocity == max(n.velocity for n in in_bar)
    # Melody notes never cross a bar line of 3/4 (cadence notes end before the next bar).
    for note in parts["melody"].notes[:-1]:
        assert int((note.start + 0.02) // bar) == int((note.end - 0.03) // bar)
    assert max(n.velocity for i in pm.instruments for n in i.notes) <= 115


def test_epic_builds_from_section_to_section() -> None:
    pm = compose_midi("epic", 95.0, seed=3)
    ctx = procedural._plan("epic", 95.0, 3, None)
    lifts = [s for s in ctx.sections if s.kind == "lift"]
    assert len(lifts) >= 2
    drums = _parts(pm)["drums"].notes

    def loudness(section) -> float:
        start = section.start_bar * ctx.bar_s
        end = start + section.bars * ctx.bar_s
        return float(np.mean([n.velocity for n in drums if start <= n.start < end]))

    assert loudness(lifts[-1]) > loudness(lifts[0]) + 4


@needs_fluidsynth
def test_lullaby_renders_the_requested_length(tmp_path: Path) -> None:
    result = ProceduralMusic().compose(
        MusicRequest(mood="lullaby", duration_ms=12_345, seed=2), tmp_path
    )
    samples = _read(result.audio)[0]
    assert len(samples) == round(12.345 * 44100)
    assert 20 * np.log10(np.sqrt(np.mean(samples**2))) > -30  # not an empty mix


def test_the_story_s_culture_picks_a_regional_mood_unless_one_is_named() -> None:
    from reelforge.plan.music import chosen_mood
    from reelforge.spec.parse import build_storyboard
    from reelforge.spec.templates import get_template

    def mood(template: str, narration: str, **music: object) -> tuple[str, str]:
        board = build_storyboard(
            {"template": template, "music": music, "scenes": [{"narration": narration}]},
            source="test",
        )
        return chosen_mood(board, get_template(template))

    assert mood("restaurant", "Le meilleur couscous à Alger, chaque vendredi.") == (
        "maghreb",
        "the story is algerian (alger)",
    )
    assert mood("restaurant", "हमारे रेस्टोरेंट में आपका स्वागत है")[0] == "bollywood"  # Hindi
    assert mood("restaurant", "Fresh pizza in Naples every day.") == ("upbeat", "")
    assert mood("news", "Ce matin à Alger, les marchés ont ouvert.")[0] == "dramatic"
    assert mood("restaurant", "Le couscous à Alger.", mood="lofi") == ("lofi", "")
