"""The web studio in Firefox (Debian's firefox-esr over WebDriver BiDi, see bidi.py) against the
same ``reelforge serve`` as the chromium tests: sign in, the scene preview, a voice's sample, an
error beside its field, a preview job followed to 100 %, the player playing with its caption
track, "make a variant", the history filtered, a job deleted; no script error and no request to
another host on the way. Screenshots ``firefox-*-desktop.png`` and ``firefox-*-phone.png``."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from bidi import Firefox
from studio_support import DESKTOP, PHONE, Server, foreign, screenshot_path

READY = "() => document.body.dataset.ready === 'true'"


def shoot(tab: Firefox, shots: Path, name: str) -> None:
    width, overflow = tab.call("() => [window.innerWidth, document.documentElement.scrollWidth]")
    tab.screenshot(screenshot_path(shots, f"firefox-{name}", width, overflow))


def size(tab: Firefox, viewport: dict[str, int]) -> None:
    tab.viewport(viewport["width"], viewport["height"])


def follow(tab: Firefox, timeout: float = 90) -> tuple[str, set[float], set[str]]:
    """Watch the job page until the job ends: its status, the progress values and stage names
    shown on the way."""
    progress: set[float] = set()
    stages: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = tab.call(
            """() => ({
              progress: document.querySelector('#job-progress')?.value,
              stage: document.querySelector('#job-stage')?.textContent,
              status: document.querySelector('#job-status')?.textContent,
            })"""
        )
        if state["progress"] is not None:
            progress.add(state["progress"])
        if state["stage"]:
            stages.add(state["stage"])
        if state["status"] in ("Done", "Failed", "Cancelled"):
            return state["status"], progress, stages
        time.sleep(0.05)
    raise AssertionError(f"the job page never showed the end: {progress} {stages}")


def run_preview(tab: Firefox, script: str) -> tuple[set[float], set[str]]:
    """Submit ``script`` from the video form as a preview and follow its job to "Done": the
    progress values and stage names shown on the way."""
    tab.fill("#script", script)
    if not tab.call("() => document.querySelector('input[name=preview]').checked"):
        tab.click("input[name=preview]")
    tab.click("#submit")
    # (the first job of a fresh server loads the voice catalogue: seconds on a busy machine)
    tab.visible("#job-progress", timeout=90)
    status, progress, stages = follow(tab)
    assert status == "Done", tab.text("#job-error")
    return progress, stages


def test_the_studio_in_firefox(firefox: Firefox, keyed_server: Server, shots: Path) -> None:
    tab, key = firefox, keyed_server.key or ""
    size(tab, PHONE)
    tab.goto(keyed_server.base + "/")
    tab.wait(READY)
    tab.visible("#api-key")
    shoot(tab, shots, "signin")
    # Signing in with the keyboard: the key typed, Enter submits; kept in storage, not the URL.
    tab.fill("#api-key", key + "\n")
    tab.visible("#video-form")
    assert tab.call("() => localStorage.getItem('reelforge.apiKey')") == key
    assert key not in tab.call("() => location.href")

    # No translation engine on this server: the choice is disabled and says what to set.
    assert tab.call("() => document.querySelector('#translate').disabled")
    assert "REELFORGE_LLM_ENDPOINT" in tab.text("#translate-help")

    # The scene preview follows the script as it is typed.
    tab.fill("#script", "# Bread\n\n## Morning\nOvens warm up.\n\n## Noon\nLoaves come out.")
    tab.wait("() => document.querySelectorAll('#scene-preview li').length === 2")
    assert "Morning" in tab.text("#scene-preview")
    tab.wait("() => /\\$|USD/.test(document.querySelector('#price').textContent)")
    shoot(tab, shots, "video")
    size(tab, DESKTOP)
    shoot(tab, shots, "video")

    # A voice's sample (AAC) plays, and Stop stops it.
    tab.choose("select[name=language]", "de")
    tab.choose("select[name=voice]", "de-adult-female")
    tab.click("#voice-listen")
    tab.wait(
        "() => document.querySelector('#voice-listen').dataset.state === 'playing'", timeout=30
    )
    tab.click("#voice-listen")
    assert tab.call("() => document.querySelector('#voice-listen').dataset.state") == "idle"
    tab.choose("select[name=language]", "")

    # A value the API refuses: its message beside the field it names, the field marked.
    tab.fill("input[name=duration]", "99999")
    tab.click("#submit")
    tab.visible("[data-field=duration] .field-error")
    assert "3600" in tab.text("[data-field=duration] .field-error")
    assert tab.call("() => document.querySelector('input[name=duration]').ariaInvalid") == "true"
    assert "#/job/" not in tab.call("() => location.href")

    # A preview job from the form, followed to the end over the event stream.
    tab.fill("input[name=duration]", "")
    # (captions not burned into the picture: the player shows its caption track at once)
    script = "---\ncaptions:\n  burn: false\n---\nGood evening. Firefox plays this one."
    progress, stages = run_preview(tab, script)
    assert 100 in progress and any(0 < p < 100 for p in progress), progress
    assert stages, "no stage name was shown"

    # The player plays, with the job's caption track and its cues.
    tab.visible("#player")
    tab.call("() => { const v = document.querySelector('#player'); v.muted = true; v.play(); }")
    tab.wait("() => document.querySelector('#player').currentTime > 0.3")
    track = tab.call(
        """() => { const t = document.querySelector('#player').textTracks[0];
                   return t && { kind: t.kind, mode: t.mode }; }"""
    )
    assert track == {"kind": "captions", "mode": "showing"}, track
    tab.wait("() => document.querySelector('#player').textTracks[0].activeCues?.length > 0")
    source = tab.call("() => document.querySelector('#player').currentSrc")
    assert "/files/video?token=" in source and key not in source, source
    tab.call("() => document.querySelector('#player').pause()")
    shoot(tab, shots, "result")
    size(tab, PHONE)
    shoot(tab, shots, "result")
    # The passing message ("The job is completed.") over the player's controls lets taps through.
    covered = tab.call(
        """() => { const t = document.querySelector('#toast'); if (t.hidden) return null;
                   const r = t.getBoundingClientRect();
                   return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2).id; }"""
    )
    assert covered != "toast"

    # "Make a variant" re-opens the form with the same inputs.
    job = tab.call("() => location.hash.split('/').pop()")
    tab.click("#variant")
    tab.visible("#video-form")
    assert tab.call("() => document.querySelector('#script').value").endswith("plays this one.")

    # The history, filtered by status and kind (the filters are in the URL, not the key).
    tab.goto(keyed_server.base + "/#/history?status=completed&kind=video")
    tab.visible(f"tr[data-job='{job}']")
    assert tab.call("() => document.querySelector('#filter-status').value") == "completed"
    shoot(tab, shots, "history")
    size(tab, DESKTOP)
    shoot(tab, shots, "history")
    # Delete, confirmed in the browser's own dialog: the row goes, and the job with it.
    tab.click(f"tr[data-job='{job}'] button.danger")
    tab.wait(f"() => !document.querySelector(\"tr[data-job='{job}']\")")
    gone = httpx.get(
        f"{keyed_server.base}/api/jobs/{job}", headers={"Authorization": f"Bearer {key}"}
    )
    assert gone.status_code == 404

    assert all(key not in url for url in tab.requests)
    assert foreign(tab.requests) == [], tab.requests
    assert tab.errors == [], tab.errors


def test_translated_captions_in_firefox(
    firefox: Firefox, translating_server: Server, shots: Path
) -> None:
    """A server that translates (a fake chat server): German picked from the filtered list,
    the job followed to the end, its German captions a download and a subtitle track."""
    tab = firefox
    size(tab, DESKTOP)
    tab.goto(translating_server.base + "/#/video")
    tab.wait(READY)
    tab.visible("#translate-filter")
    assert not tab.call("() => document.querySelector('#translate').disabled")
    tab.fill("#translate-filter", "germ")
    tab.wait("() => document.querySelector('#translate-languages li[data-code=fr]').hidden")
    tab.click("#translate-languages li[data-code=de] input")
    tab.wait("() => document.querySelector('#translate-summary').textContent.includes('German')")
    run_preview(tab, "Good evening. Firefox reads this one in German too.")
    tab.visible("#translated-downloads")
    assert tab.text("#translated-downloads .language") == "German"
    links = tab.call(
        "() => [...document.querySelectorAll('#translated-downloads a')].map(a => a.dataset.name)"
    )
    assert links == ["captions.de.srt", "captions.de.vtt"], links
    track = tab.call(
        """() => [...document.querySelector('#player').textTracks]
                   .map(t => [t.kind, t.language, t.label])"""
    )
    assert ["subtitles", "de", "German"] in track, track
    shoot(tab, shots, "translated-result")
    assert foreign(tab.requests) == [], tab.requests
    assert tab.errors == [], tab.errors
