"""The moods of the procedural music engine, light to import (no numpy, no MIDI).

The spec, the command line and the API list and check moods from here through the registry
(:func:`reelforge.engines.registry.choices`); the engine composes exactly these.
"""

from __future__ import annotations

MOODS: dict[str, str] = {
    "cinematic": "Slow minor strings and horn over harp, with timpani hits: trailers, epics.",
    "upbeat": "Bright pop in a major key, 110-125 bpm: piano, bass and a full drum kit.",
    "calm": "Ambient and soft: warm pad and gentle piano, no drums. Meditation, nature.",
    "corporate": "Bright, confident major with plucked guitar and light drums: explainers.",
    "playful": "Bouncy major with glockenspiel, marimba and pizzicato: children's stories.",
    "dramatic": "Tense harmonic minor, driving string ostinato and brass: news, thrillers.",
    "lofi": "Lo-fi hip hop: jazzy 7th chords on electric piano, walking bass, lazy swing.",
    "indian": "Indian classical flavour: tanpura drone on Sa-Pa, sitar in raga Yaman or "
    "Bhairav, tabla in teentaal.",
    "maghreb": "Andalusi, Chaabi and Gnawa flavour: oud-like plucked lead with tremolo in maqam "
    "Hijaz, Nahawand or Kurd over a drone, qanun runs, guembri riff, darbuka maqsum and baladi, "
    "riq and qraqeb.",
    "bollywood": "Film-song feel: bansuri flute in raga Khamaj or major over strings, santoor "
    "16ths, dholak kaharwa then the filmi chaal with claps.",
    "devotional": "Slow bhajan: harmonium drone and harmonium tune, temple bells, manjira, "
    "and a soft dholak when it lifts.",
    "epic": "Cinematic epic: choir, 16th-note string ostinato, brass theme, taiko-like toms "
    "and timpani, building from verse to lift.",
    "lullaby": "Children's lullaby in 3/4: music box tune over a rocking celesta and a soft pad, "
    "slow, no drums.",
}
"""Mood name -> one-line description."""
