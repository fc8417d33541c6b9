"""Voicing several turns at once and sharing the Kokoro session: the next turn is voiced while
one finishes, the turns are still handed on in order, and no more sentences run at once than
the gate lets through, oldest first."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from reelforge.engines.base import SpeechResult
from reelforge.engines.tts.kokoro_model import Gate
from reelforge.errors import EngineFailed
from reelforge.talking import produce


class _Busy:
    """Counts the calls running at once (and the most there were)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def _speech(tmp_path: Path, text: str) -> SpeechResult:
    return SpeechResult(tmp_path / f"{text}.wav", 100 * len(text), 24000, (), "fake", "1")


def test_the_next_turn_is_voiced_while_one_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy, started = _Busy(), []
    texts = ["a slow first turn", "two", "three", "four"]

    def say(self: produce.Voicing, speaker: int, text: str) -> SpeechResult:
        started.append(text)
        with busy:
            time.sleep(0.3 if text == texts[0] else 0.05)
        return _speech(tmp_path, text)

    monkeypatch.setattr(produce.Voicing, "_say", say)
    turns = [produce.Turn(0, text) for text in texts]
    spoken = produce.Voicing(turns, ["en-adult-male"], "en", tmp_path).all()
    assert [t.text for t in spoken] == texts  # handed on in order
    assert busy.most == produce.VOICES_AHEAD  # the second began before the first ended
    assert started[:2] == texts[:2]
    starts = [t.start_ms for t in spoken]
    assert starts == sorted(starts) and starts[0] == 300  # placed one after another


def test_a_failing_turn_stops_the_voicing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said = []

    def say(self: produce.Voicing, speaker: int, text: str) -> SpeechResult:
        said.append(text)
        if text == "two":
            raise EngineFailed("the voice broke", hint="try another")
        return _speech(tmp_path, text)

    monkeypatch.setattr(produce.Voicing, "_say", say)
    turns = [produce.Turn(0, text) for text in ["one", "two", "three", "four", "five"]]
    with pytest.raises(EngineFailed, match="the voice broke"):
        produce.Voicing(turns, ["en-adult-male"], "en", tmp_path).all()
    assert "five" not in said  # nothing started after the failure was seen


def test_the_gate_lets_through_its_slots() -> None:
    gate, busy = Gate(2), _Busy()

    def run(ticket: int) -> None:
        with gate.held(ticket), busy:
            time.sleep(0.05)

    threads = [threading.Thread(target=run, args=(t,)) for t in gate.tickets(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert busy.most == 2


def test_a_freed_slot_goes_to_the_oldest_ticket_waiting() -> None:
    """The newest ticket holds the slot; the others ask newest first and still run oldest
    first (a turn's sentences before the next turn's)."""
    gate, order = Gate(1), []
    tickets = gate.tickets(4)
    holding = threading.Event()

    def run(ticket: int) -> None:
        with gate.held(ticket):
            order.append(ticket)
            holding.set()
            time.sleep(0.2 if ticket == tickets[-1] else 0.0)

    threads = [threading.Thread(target=run, args=(tickets[-1],))]
    threads[0].start()
    holding.wait()
    for ticket in reversed(tickets[:-1]):
        threads.append(threading.Thread(target=run, args=(ticket,)))
        threads[-1].start()
        time.sleep(0.02)  # each asks after the one before
    for thread in threads:
        thread.join()
    assert order == [tickets[-1], *tickets[:-1]]
