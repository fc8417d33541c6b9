"""How close ``--voice-like`` brings a voice to a recording, and whether it stays intelligible.

For each reference recording, reelforge.voice_match picks the nearest voice of the language
(every catalogue voice and Kokoro blend) and fits its WORLD transform; this reports the F0 and
envelope distances before (the nearest voice as it is) and after (transformed), measured on the
probe sentence's audio, and Whisper-base CER (language forced; see benchmarks/voices.py) of
two sentences spoken by the nearest voice as it is and by the matched voice.

References:

* ``fr-june``: a real recording, the Canadian French voice "June" of Debian's
  ``asterisk-core-sounds-fr-g722`` (CC-BY-SA-3.0; ``demo-congrats``, 29 s). Fetch it with
  ``apt-get download asterisk-core-sounds-fr-g722 && dpkg -x asterisk-core-sounds-fr-g722*.deb
  DIR`` and pass ``--asterisk DIR``; skipped otherwise.
* ``fr-synthetic``, ``en-synthetic``: a catalogue voice reading other sentences, moved by a
  known WORLD transform (so no candidate is the reference itself).

Usage::

    python benchmarks/voice_match.py --asterisk /tmp/ast/x --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from voices import edit_distance, normalise, transcribe  # noqa: E402

from reelforge import speech_transform, voice_match, voices  # noqa: E402
from reelforge.settings import get_settings  # noqa: E402

JUDGED = {
    "fr": [
        "Le marché ouvre tôt le samedi, et les maraîchers installent leurs étals avant l'aube.",
        "Nous avons visité le musée puis nous avons déjeuné sur une terrasse au bord du lac.",
    ],
    "en": [
        "The library stays open late on Thursdays, so students come after their classes.",
        "We packed a small lunch and walked up the hill to watch the boats in the harbour.",
    ],
}
# (name, language, voice that reads, its sentences, WORLD transform making the reference)
SYNTHETIC = (
    (
        "fr-synthetic",
        "fr",
        "fr-adult-male",
        "Il était une fois un petit renard qui vivait au fond de la forêt. Chaque matin, il "
        "partait chercher des baies et saluait les oiseaux. Un jour, il rencontra un hérisson "
        "très bavard qui connaissait toutes les histoires du village.",
        "f0=1.12;envelope=0.94;range=1.3",
    ),
    (
        "en-synthetic",
        "en",
        "en-adult-male",
        "Once upon a time a small fox lived deep in the forest. Every morning he went out to "
        "look for berries and greeted the birds. One day he met a very talkative hedgehog who "
        "knew every story in the village.",
        "f0=1.2;envelope=1.08;range=0.8",
    ),
)


def judge(match: voice_match.VoiceMatch, folder: Path) -> dict[str, Any]:
    """CER of the judged sentences (one narration: Whisper base misjudges lone short sentences)
    in the nearest voice as it is and in the matched voice."""
    text = " ".join(JUDGED[match.language])
    out: dict[str, Any] = {}
    for label, voice in (("before", match.base), ("after", match.voice)):
        spoken = voices.speak_as(voice, text, match.language, folder)
        heard, _ = transcribe(Path(spoken.audio), match.language)
        want = normalise(text)
        out[f"cer_{label}"] = round(edit_distance(normalise(heard), want) / len(want), 3)
        out[f"heard_{label}"] = heard.strip()
    return out


def references(asterisk: Path | None, folder: Path) -> list[tuple[str, str, Path]]:
    found: list[tuple[str, str, Path]] = []
    if asterisk is not None:
        source = asterisk / "usr/share/asterisk/sounds/fr_CA_f_June/demo-congrats.g722"
        wav = folder / "fr-june.wav"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "g722", "-i", str(source), str(wav)], check=True
        )
        found.append(("fr-june", "fr", wav))
    for name, language, voice, text, transform in SYNTHETIC:
        spoken = voices.synthesize(text, language, voice, workdir=folder)
        wav = folder / f"{name}.wav"
        speech_transform.apply(Path(spoken.audio), wav, speech_transform.parse(transform))
        found.append((name, language, wav))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asterisk", type=Path, help="asterisk-core-sounds-fr-g722 unpacked")
    parser.add_argument("--only", help="comma-separated reference names")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--cache", type=Path, help="where probes are kept (default: the settings' cache)"
    )
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="voice-match-bench-") as tmp:
        folder = Path(tmp)
        for name, language, wav in references(args.asterisk, folder):
            if args.only and name not in args.only.split(","):
                continue
            match = voice_match.match_voice(wav, language, args.cache or get_settings().cache_dir)
            row = {"reference": name, **match.to_dict(), **judge(match, folder)}
            rows.append(row)
            if not args.json:
                print(f"{name}: {match.summary()}; CER {row['cer_before']} -> {row['cer_after']}")
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
