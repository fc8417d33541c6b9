"""Clips' moments by meaning: TextTiling over sentence embeddings finds where a talk changes
topic, and ``--query`` finds the sentences about a topic in other words; without the embedding
model the lexical TextTiling and the query's words do the same, less well."""

from __future__ import annotations

import pytest

from reelforge.clips.moments import find_moments, sentences, topics
from reelforge.engines.base import Word
from reelforge.text import meaning

TALK = [
    # pricing
    "Why do most startups get pricing wrong?",
    "Because founders are afraid to charge what the product is worth.",
    "Pricing is a signal of value to your customers.",
    "A cheap plan tells buyers that the product is cheap.",
    "Raise your prices every year and watch who leaves.",
    "Most customers stay, and the ones who pay more value you more.",
    # hiring (sentence 6)
    "Now let me talk about hiring.",
    "Hiring your first engineer takes months of searching.",
    "You should look for people who love the problem.",
    "Interviews should be real work, not puzzles.",
    "Pay them fairly and give them ownership early.",
    "The best engineers want to build, not to wait.",
    # sleep (sentence 12)
    "Finally, a word about sleep.",
    "Founders who sleep six hours make worse decisions.",
    "Protect your nights like you protect your runway.",
    "A tired mind sees problems everywhere and solutions nowhere.",
    "Go to bed at the same time every day.",
    "Your company will thank you for it.",
]


def _words(lines: list[str], per_word_ms: int = 350) -> list[Word]:
    tokens = " ".join(lines).split()
    return [Word(t, k * per_word_ms, (k + 1) * per_word_ms - 50) for k, t in enumerate(tokens)]


def test_topics_by_meaning_find_where_the_talk_changes_subject(minilm: str) -> None:
    found = sentences(_words(TALK))
    vectors = meaning.embed([s.text for s in found])
    assert vectors is not None
    labels = topics(found, vectors=vectors.vectors)
    assert labels == [0] * 6 + [1] * 6 + [2] * 6
    # the lexical fallback still cuts the talk in three, near the same places
    lexical = topics(found)
    assert max(lexical) == 2 and lexical[0] == 0
    starts = [k for k in range(1, len(lexical)) if lexical[k] != lexical[k - 1]]
    assert all(min(abs(s - t) for t in (6, 12)) <= 1 for s in starts)


def test_a_query_finds_the_moment_about_it_in_other_words(embeddings: str) -> None:
    words = _words(TALK)
    found = find_moments(words, count=2, min_s=4, max_s=12, query="cost")  # never said
    if embeddings == "none":
        assert found == []
        return
    assert found and all("pric" in m.text.lower() or "cheap" in m.text for m in found)
    best = found[0]
    assert best.reasons[0].startswith("close in meaning to the query (0.")
    assert best.components["query"] >= 0.5
    quoted = best.reasons[0].split(": '", 1)[1]  # the title is the sentence nearest the query
    assert best.title.startswith(" ".join(quoted.split()[:4]))
    (hiring,) = find_moments(words, count=1, min_s=3, max_s=12, query="recruiting")
    assert "hiring" in hiring.text.lower()
    assert find_moments(words, count=2, min_s=4, max_s=12, query="volcanoes") == []


def test_a_query_word_said_outranks_the_same_meaning_unsaid(minilm: str) -> None:
    found = find_moments(_words(TALK), count=3, min_s=4, max_s=12, query="pricing")
    assert found[0].reasons[0].startswith("about the query: 'pric'")
    assert found[0].components["query"] >= max(m.components["query"] for m in found)


@pytest.mark.parametrize("query", ["sleep", "rest"])
def test_query_and_topics_agree(minilm: str, query: str) -> None:
    (best,) = find_moments(_words(TALK), count=1, min_s=4, max_s=12, query=query)
    assert best.topic == 2 and "sleep" in best.text.lower()
