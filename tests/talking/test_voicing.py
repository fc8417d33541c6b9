"""Voicing several turns at once and sharing the Kokoro session: the next turn is voiced while
one finishes, the turns are still handed on in order, and no more sentences run at once than
the gate lets through, oldest first."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reelforge.engines.base import SpeechResult, speech_order
from reelforge.engines.tts.kokoro_model import Gate, Ticket
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
    busy, events = _Busy(), []
    texts = ["a slow first turn", "two", "three", "four"]

    def say(self: produce.Voicing, speaker: int, text: str) -> SpeechResult:
        events.append(("start", text))
        with busy:
            time.sleep(0.4 if text == texts[0] else 0.05)
        events.append(("end", text))
        return _speech(tmp_path, text)

    monkeypatch.setattr(produce.Voicing, "_say", say)
    turns = [produce.Turn(0, text) for text in texts]
    spoken = produce.Voicing(turns, ["en-adult-male"], "en", tmp_path).all()
    assert [t.text for t in spoken] == texts  # handed on in order
    assert busy.most == produce.VOICES_AHEAD  # the second began before the first ended
    assert events[:2] == [("start", texts[0]), ("start", texts[1])]
    # a turn starts as soon as any other ends: the later ones are voiced beside the slow first
    assert events.index(("start", "four")) < events.index(("end", texts[0]))
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

    def run(ticket: Ticket) -> None:
        with gate.held(ticket), busy:
            time.sleep(0.05)

    _run_all(run, gate.tickets(6))
    assert busy.most == 2


def _run_all(run: Callable[[Ticket], None], tickets: list[Ticket]) -> None:
    """``run`` on a thread per ticket, started in the order given, one after another (the
    first has taken its slot before the others ask)."""
    threads = []
    for ticket in tickets:
        threads.append(threading.Thread(target=run, args=(ticket,)))
        threads[-1].start()
        time.sleep(0.03)
    for thread in threads:
        thread.join()


def test_a_freed_slot_goes_to_the_oldest_ticket_waiting() -> None:
    """The newest ticket holds the slot; the others ask newest first and still run oldest
    first (a call's sentences before a later call's)."""
    gate, order = Gate(1), []
    tickets = gate.tickets(4)

    def run(ticket: Ticket) -> None:
        with gate.held(ticket):
            order.append(ticket)
            time.sleep(0.2 if ticket == tickets[-1] else 0.0)

    _run_all(run, tickets[::-1])
    assert order == [tickets[-1], *tickets[:-1]]


def test_the_speech_needed_first_goes_first() -> None:
    """A talking video's next turn took its tickets first; the turn it draws now still runs
    before it (its lower speech_order)."""
    gate, order = Gate(1), []
    context = contextvars.copy_context()
    context.run(speech_order.set, 1)
    later = context.run(gate.tickets, 2)  # the next turn asked first
    holding = gate.tickets(1)  # something already running
    sooner = gate.tickets(2)  # this turn (order 0)

    def run(ticket: Ticket) -> None:
        with gate.held(ticket):
            order.append(ticket)
            time.sleep(0.2 if ticket in holding else 0.0)

    _run_all(run, holding + later + sooner)
    assert order == holding + sooner + later
