"""The illustrated lexicon is parsed once per process, and every reader (word concepts, English
subject names, the illustrated engine's keyword table) reads that one parse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reelforge.engines.visuals import illustrated, illustrated_lexicon
from reelforge.text import words

_SMALL = """
🐟 | lively | en: fish, sardines | fr: poisson, Sardine | ar: سمك
🔥 | glow, hot | en: grill, hot dog | fr: grillé
🍞 | | fr: pain | en:
"""
_CACHES = (
    illustrated_lexicon.entries,
    words._concepts,
    words._english_names,
    words.concepts,
    illustrated._table,
)


@pytest.fixture
def small_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(illustrated_lexicon, "TABLE", _SMALL)
    for cached in _CACHES:
        cached.cache_clear()
    yield
    for cached in _CACHES:  # the real table again for the tests after this one
        cached.cache_clear()


def test_every_reader_shares_one_parse_of_the_table(small_table: None) -> None:
    assert words._concepts() == {
        "fish": {"🐟"},
        "sardines": {"🐟"},
        "poisson": {"🐟"},
        "sardine": {"🐟"},
        "سمك": {"🐟"},
        "grill": {"🔥"},
        "grille": {"🔥"},  # accents folded; "hot dog" has a space: phrases are not concepts
        "pain": {"🍞"},
    }
    assert words._english_names() == {"🐟": "fish", "🔥": "grill"}  # 🍞 has no English word
    assert words.english_subjects("Poisson grillé et pain") == ["fish", "grill"]
    table = illustrated._table()
    assert [(key, word, s.emoji) for key, word, s in table["fr"]] == [
        ("poisson", "poisson", "🐟"),
        ("sardine", "Sardine", "🐟"),
        ("grille", "grillé", "🔥"),
        ("pain", "pain", "🍞"),
    ]
    assert table["en"][-1][:2] == ("hot dog", "hot dog")
    assert table["ja"] == []  # every language of the lexicon has its list, empty or not
    assert {s.emoji: s.tags for _, _, s in table["en"]}["🔥"] == {"glow", "hot"}
    assert illustrated_lexicon.entries.cache_info().misses == 1  # parsed once for all three


def test_the_real_table_parses_into_subjects_with_english_names() -> None:
    entries = illustrated_lexicon.entries()
    assert len({entry.emoji for entry in entries}) == len(entries) > 100
    assert words._english_names()["🐟"] == "fish"
    assert "🐟" in words.concepts("sardines")
