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
}
"""Mood name -> one-line description."""
