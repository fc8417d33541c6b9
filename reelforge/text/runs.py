"""Mixed-script text split into runs by script, for narration that switches language.

Algerian, Moroccan and Tunisian Darija is written in Arabic script with French words and
phrases in Latin letters ("الجو مزيان اليوم، on va à la plage"). No voice reads both: the
Arabic voice spells Latin letters out and the French voice cannot read Arabic script. The voice
layer therefore speaks each run with the voice of its script (Latin runs: the French voice of the
same persona) and stitches the audio and word times back together.

A token's script is the script of its letters; tokens without letters (numbers, signs) join
the following run when they are its number ("500 DA") and the run before them otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

# Regions whose Arabic switches into French (the Latin runs are read by the French voice).
MAGHREB_REGIONS = frozenset({"dz", "ma", "tn"})
# Signs that read with the number before them ("500 DA", "10 %").
_UNITS = frozenset({"DA", "DZD", "EUR", "€", "$", "USD", "%", "km", "kg", "h"})


@dataclass(frozen=True)
class Run:
    script: str  # "arabic" or "latin"
    text: str  # the run's tokens joined by single spaces (line breaks kept as "\n")


def token_script(token: str) -> str | None:
    """ "arabic", "latin" or None (no letters) for one whitespace token."""
    arabic = latin = 0
    for ch in token:
        code = ord(ch)
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            if ch.isalpha():
                arabic += 1
        elif ch.isalpha() and (ch.isascii() or 0x00C0 <= code <= 0x024F):
            latin += 1
    if not arabic and not latin:
        return None
    return "arabic" if arabic >= latin else "latin"


def script_runs(text: str) -> list[Run]:
    """``text`` as consecutive runs of one script each, every token in exactly one run, in
    order. Text in one script (or none) is one run."""
    lines = text.split("\n")
    tagged: list[tuple[str, str | None]] = []  # (token or "\n", script)
    for n, line in enumerate(lines):
        if n:
            tagged.append(("\n", None))
        tagged.extend((token, token_script(token)) for token in line.split())
    scripts: list[str | None] = [s for _, s in tagged]
    # Tokens without letters: with a following unit they join its run, else the previous one.
    for k, (token, script) in enumerate(tagged):
        if script is not None or token == "\n":
            continue
        following = next((t for t, s in tagged[k + 1 :] if t != "\n"), "")
        before = next((s for s in reversed(scripts[:k]) if s is not None), None)
        after = next((s for s in scripts[k + 1 :] if s is not None), None)
        if following in _UNITS and after is not None:
            scripts[k] = after
        else:
            scripts[k] = before or after or "latin"
    runs: list[tuple[str, list[str]]] = []
    for (token, _), script in zip(tagged, scripts, strict=True):
        if token == "\n":
            if runs:
                runs[-1][1].append("\n")
            continue
        assert script is not None
        if runs and runs[-1][0] == script:
            runs[-1][1].append(token)
        else:
            runs.append((script, [token]))
    out = []
    for script, tokens in runs:
        joined = " ".join(tokens).replace(" \n ", "\n").replace(" \n", "\n").strip()
        if joined:
            out.append(Run(script, joined))
    return out
