"""The web studio in a real browser (Debian's chromium, driven by Playwright) against real
``reelforge serve`` processes: sign in, write a script, see its scenes, get an error beside the
field, submit a preview job, follow it to 100 %, play the video with its caption track, download
every output, cancel and retry, use the history, and fill a form built for a kind the page has
never heard of. Screenshots at desktop and phone width (see conftest.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from studio_support import AUDIT, DESKTOP, PHONE, Browser, Server, field_error, screenshot

pytestmark = pytest.mark.usefixtures("chromium_path")


def open_studio(pages: Browser, server: Server, viewport: dict[str, int] = DESKTOP) -> Any:
    page = pages.page(viewport)
    page.goto(server.base + "/")
    page.wait_for_selector("body[data-ready=true]")
    return page


def sign_in(page: Any, key: str) -> None:
    page.wait_for_selector("#api-key")
    page.fill("#api-key", key)
    page.click("button[type=submit]")
    page.wait_for_selector("#video-form")


def wait_for_final(page: Any, timeout: float = 90) -> dict[str, Any]:
    """Watch the job page until the job ends; what the page showed on the way."""
    seen: dict[str, Any] = {"progress": set(), "stages": set(), "etas": set()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(
            """() => ({
              progress: document.querySelector('#job-progress')?.value,
              stage: document.querySelector('#job-stage')?.textContent,
              eta: document.querySelector('#job-eta')?.textContent,
              status: document.querySelector('#job-status')?.textContent,
            })"""
        )
        seen["progress"].add(state["progress"])
        if state["stage"]:
            seen["stages"].add(state["stage"])
        if state["eta"]:
            seen["etas"].add(state["eta"])
        if state["status"] in ("Done", "Failed", "Cancelled"):
            seen["status"] = state["status"]
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the job page never showed the end: {seen}")


def test_sign_in_submit_follow_play_and_download(
    pages: Browser, keyed_server: Server, shots: Path, tmp_path: Path
) -> None:
    page = open_studio(pages, keyed_server)
    screenshot(page, shots, "signin")
    # A wrong key is refused beside the field, and is not kept.
    page.fill("#api-key", "rf_not_a_key")
    page.click("button[type=submit]")
    page.wait_for_selector("#key-error:not([hidden])")
    assert "unknown" in page.text_content("#key-error")
    assert page.evaluate("() => localStorage.getItem('reelforge.apiKey')") is None
    sign_in(page, keyed_server.key or "")
    assert page.evaluate("() => localStorage.getItem('reelforge.apiKey')") == keyed_server.key
    assert keyed_server.key not in page.url

    # The scene preview follows the script as it is typed.
    page.fill("#script", "# Bread\n\n## Morning\nOvens warm up.\n\n## Noon\nLoaves come out.")
    page.wait_for_function("() => document.querySelectorAll('#scene-preview li').length === 2")
    assert "Morning" in page.text_content("#scene-preview")
    page.wait_for_function("() => /\\$|USD/.test(document.querySelector('#price').textContent)")
    screenshot(page, shots, "video")

    # A value the API refuses: its message shows beside the field it names.
    page.fill("input[name=duration]", "99999")
    page.click("#submit")
    assert "3600" in field_error(page, "duration", invalid="input[name=duration]")
    assert "#/job/" not in page.url

    page.fill("input[name=duration]", "")
    page.fill("#script", "Hello there. This is reelforge.")
    page.check("input[name=preview]")
    page.click("#submit")
    page.wait_for_selector("#job-progress")
    job_id = page.url.rsplit("/", 1)[-1]
    seen = wait_for_final(page)
    assert seen["status"] == "Done", page.text_content("#job-error")
    assert 100 in seen["progress"]
    assert any(0 < (p or 0) < 100 for p in seen["progress"]), seen  # it moved, not jumped
    assert seen["stages"], "no stage name was shown"

    # The player plays, with the caption track of the job.
    page.wait_for_selector("#player")
    page.evaluate(
        "() => { const v = document.querySelector('#player'); v.muted = true; v.play(); }"
    )
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.3")
    track = page.evaluate(
        """() => {
          const v = document.querySelector('#player');
          const t = v.textTracks[0];
          return t ? { kind: t.kind, mode: t.mode, cues: t.cues ? t.cues.length : 0 } : null;
        }"""
    )
    # The picture carries the captions burned in: the track waits to be chosen (CC), not
    # shown over them; chosen, its cues load.
    assert track is not None and track["kind"] == "captions" and track["mode"] == "disabled"
    page.evaluate("() => { document.querySelector('#player').textTracks[0].mode = 'showing'; }")
    page.wait_for_function("() => document.querySelector('#player').textTracks[0].cues?.length > 0")
    # The player streams a signed link (range requests), never a blob or a URL with the key.
    source = page.evaluate("() => document.querySelector('#player').currentSrc")
    assert "/files/video?token=" in source and keyed_server.key not in source, source
    assert not any(url.startswith("blob:") for url in pages.requests)
    assert all(keyed_server.key not in url for url in pages.requests)
    # A link that stopped working (expired, here altered) is renewed where the player was.
    page.evaluate(
        """() => { const v = document.querySelector('#player');
                   v.src = v.currentSrc.replace(/token=\\d+\\./, 'token=1.'); }"""
    )
    page.wait_for_function(
        "() => document.querySelector('#player').dataset.renewed?.includes('token=')"
    )
    page.evaluate("() => document.querySelector('#player').play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.3")
    screenshot(page, shots, "result")

    # Every output the job lists is a working download (its signed link, no key needed).
    names = page.eval_on_selector_all("#downloads a", "links => links.map(a => a.textContent)")
    assert {"video", "thumbnail", "captions.vtt", "captions.srt", "manifest"} <= set(names)
    for name in names:
        with page.expect_download() as info:
            page.click(f"#downloads a:text-is('{name}')")
        saved = tmp_path / name
        info.value.save_as(saved)
        assert saved.stat().st_size > 0, name
        if name == "video":
            assert saved.read_bytes()[4:8] == b"ftyp"
        if name == "captions.vtt":
            assert saved.read_text(encoding="utf-8").startswith("WEBVTT")

    # The same result at phone width.
    phone = pages.page(PHONE)
    phone.goto(keyed_server.base + "/")
    phone.evaluate("k => localStorage.setItem('reelforge.apiKey', k)", keyed_server.key)
    phone.goto(f"{keyed_server.base}/#/job/{job_id}")
    phone.reload()
    phone.wait_for_selector("#player")
    screenshot(phone, shots, "result")
    phone.goto(keyed_server.base + "/#/video")
    phone.wait_for_selector("#video-form")
    screenshot(phone, shots, "video")
    phone.evaluate("() => localStorage.clear()")
    phone.goto(keyed_server.base + "/")
    phone.wait_for_selector("#api-key")
    screenshot(phone, shots, "signin")

    # "Make a variant" re-opens the form with the same inputs.
    page.click("#variant")
    page.wait_for_selector("#video-form")
    assert page.input_value("#script") == "Hello there. This is reelforge."
    assert page.is_checked("input[name=preview]")


def test_cancel_retry_history_and_delete(pages: Browser, keyed_server: Server, shots: Path) -> None:
    page = open_studio(pages, keyed_server)
    sign_in(page, keyed_server.key or "")
    script = " ".join(["Here is one more sentence for the narrator to read."] * 6)
    page.fill("#script", script)
    page.check("input[name=preview]")
    page.click("#submit")
    page.click("#cancel")
    page.wait_for_function(
        "() => document.querySelector('#job-status').textContent === 'Cancelled'"
    )
    job_id = page.url.rsplit("/", 1)[-1]
    page.click("#retry")
    page.wait_for_function(
        "() => document.querySelector('#job-status').textContent !== 'Cancelled'"
    )
    seen = wait_for_final(page)
    assert seen["status"] == "Done"
    page.wait_for_selector("#player")

    # History: the job is listed; filters narrow the list; delete removes a job.
    page.goto(keyed_server.base + "/#/history")
    page.wait_for_selector(f"tr[data-job='{job_id}']")
    page.select_option("#filter-status", "failed")
    page.wait_for_selector("#history-list .empty")
    page.select_option("#filter-status", "completed")
    page.select_option("#filter-kind", "video")
    page.wait_for_selector(f"tr[data-job='{job_id}']")
    assert "status=completed" in page.url and "kind=video" in page.url
    screenshot(page, shots, "history")
    phone = pages.page(PHONE)
    phone.goto(keyed_server.base + "/")
    phone.evaluate("k => localStorage.setItem('reelforge.apiKey', k)", keyed_server.key)
    phone.goto(keyed_server.base + "/#/history")
    phone.reload()
    phone.wait_for_selector(f"tr[data-job='{job_id}']")
    screenshot(phone, shots, "history")

    page.click(f"tr[data-job='{job_id}'] button:text-is('Delete')")
    page.wait_for_selector(f"tr[data-job='{job_id}']", state="detached")
    import httpx

    gone = httpx.get(
        f"{keyed_server.base}/api/jobs/{job_id}",
        headers={"Authorization": f"Bearer {keyed_server.key}"},
    )
    assert gone.status_code == 404


def test_a_new_kind_gets_a_form_from_the_openapi_document(
    pages: Browser, toy_server: Server, shots: Path
) -> None:
    page = open_studio(pages, toy_server)
    assert page.text_content("#account") == "Open mode"
    page.click("#nav a:text-is('Toys')")
    page.wait_for_selector("#kind-form")
    assert page.is_visible("input[name=text]") and page.is_visible("input[name=copies]")
    # The API's 422 names the field: its message shows beside it.
    page.fill("input[name=copies]", "9")
    page.fill("input[name=text]", "hello")
    page.click("#kind-form button[type=submit]")
    page.locator("[data-field=copies] .field-error").wait_for(state="visible")
    assert "3" in page.text_content("[data-field=copies] .field-error")
    page.fill("input[name=copies]", "2")
    page.fill("input[name=colour]", "#cc3366")
    screenshot(page, shots, "kind-form")
    page.click("#kind-form button[type=submit]")
    seen = wait_for_final(page, timeout=30)
    assert seen["status"] == "Done"
    page.wait_for_selector("#outputs img")
    cards = page.eval_on_selector_all("#outputs li", "items => items.map(i => i.textContent)")
    assert len(cards) == 3 and sum("image/png" in c for c in cards) == 2, cards
    assert page.evaluate("() => document.querySelector('#outputs img').naturalWidth") == 160
    screenshot(page, shots, "kind-result")
    # "Make a variant" re-opens the kind's form with the inputs of this job.
    job_id = page.url.rsplit("/", 1)[-1]
    page.click("#variant")
    page.wait_for_selector("#kind-form")
    assert page.text_content("h1") == "Toys: a variant" and job_id in page.text_content(
        "#variant-of"
    )
    assert page.input_value("input[name=text]") == "hello"
    assert page.input_value("input[name=copies]") == "2"
    assert page.input_value("input[name=colour]") == "#cc3366"


def test_labels_contrast_and_keyboard(pages: Browser, toy_server: Server, shots: Path) -> None:
    """Every control named, every text readable (WCAG AA contrast) in light and dark; the video
    form walked and sent with the keyboard alone, each stop visibly focused. The real kinds'
    generated forms (talking, podcasts) photographed at both widths."""
    for scheme, viewport in (("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE)):
        page = pages.page(viewport, color_scheme=scheme)
        for route, ready in (
            ("#/video", "#video-form .gallery img"),
            ("#/kind/toys", "#kind-form"),
            ("#/kind/talking", "#kind-form"),
            ("#/kind/podcasts", "#kind-form"),
            ("#/history", "#history-list"),
        ):
            page.goto(f"{toy_server.base}/{route}")
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_selector(ready)
            assert page.evaluate(AUDIT) == {"unlabelled": [], "low": []}, (scheme, route)
            if scheme == "light" and route in ("#/kind/talking", "#/kind/podcasts"):
                screenshot(page, shots, f"{route.rsplit('/', 1)[-1]}-form")
        page.context.close()

    page = open_studio(pages, toy_server)
    page.wait_for_selector("#video-form")
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return { id: e.id, name: e.name || e.textContent.trim(),
                                outline: s.outlineStyle !== 'none'
                                         && parseFloat(s.outlineWidth) >= 2 }; }"""
        )
        stops.append(stop)
        if stop["id"] == "script":  # emptied: the server will refuse it
            page.keyboard.press("Control+a")
            page.keyboard.press("Delete")
        if stop["id"] == "submit":
            break
    assert stops[-1]["id"] == "submit", stops
    assert all(stop["outline"] for stop in stops), [s for s in stops if not s["outline"]]
    names = [stop["name"] for stop in stops]
    assert {"script", "template", "language", "voice", "music", "duration", "preview"} <= set(names)
    # Enter sends the form: the empty script's error shows beside the script.
    page.keyboard.press("Enter")
    assert "The script is empty" in field_error(page, "source", invalid="#script")
    assert "#/job/" not in page.url


def test_docs_are_served_without_a_network(pages: Browser, toy_server: Server, shots: Path) -> None:
    page = pages.page(DESKTOP)
    page.goto(toy_server.base + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "reelforge" in page.text_content(".swagger-ui .info .title")
    page.get_by_text("/api/toys", exact=True).first.wait_for()
    screenshot(page, shots, "docs")


SCRIPTS = [
    "Hello there. This is reelforge.",
    "# Title\n\n## One\nFirst *scene*, with [a link](http://x).\n\n## Two\n- item one\n- item two",
    "First paragraph here.\n\n![a picture](media:abc123)\n\nSecond paragraph, with its picture.",
    "---\nmax_scenes: 2\n---\nOne.\n\nTwo.\n\nThree.\n\nFour.",
    " ".join(f"Sentence number {i} is here." for i in range(40)),
    "مرحبا بكم. هذا فيديو قصير.\n\nالمشهد الثاني هنا.",
    "今日はいい天気です。散歩に行きましょう。\n\n次の場面です。",
    "Dr. Smith met Mr. Jones at 3.5 p.m. They talked.\n\n```\ncode is never read\n```\n\nEnd.",
]


def test_the_scene_preview_splits_scripts_like_the_server(
    pages: Browser, toy_server: Server
) -> None:
    from reelforge.spec.parse import storyboard_from_text

    page = pages.page(DESKTOP)
    page.goto(toy_server.base + "/")
    page.wait_for_selector("body[data-ready=true]")
    for script in SCRIPTS:
        ours = page.evaluate(
            "async s => (await import('/static/scenes.js')).splitScript(s)", script
        )
        board = storyboard_from_text(script)
        theirs = [(s.title, s.narration) for s in board.scenes]
        mine = [(s.get("title"), s["narration"]) for s in ours["scenes"]]
        assert mine == theirs, script
        assert (ours["title"] or "") == board.title


def test_template_stills_and_voice_and_mood_samples(
    pages: Browser, toy_server: Server, shots: Path
) -> None:
    page = open_studio(pages, toy_server)
    page.wait_for_selector("#video-form")
    # The gallery shows each template's still, drawn by the server from the template itself.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.gallery img.template-still')]
                  .every(i => i.complete && i.naturalWidth === 320)""",
        timeout=60_000,
    )
    names = page.eval_on_selector_all(
        ".gallery img.template-still", "imgs => imgs.map(i => i.getAttribute('src'))"
    )
    assert len(names) >= 5 and all(n.endswith("/thumbnail") for n in names), names

    # Automatic voice: nothing to hear yet; a chosen voice plays its sample sentence.
    assert page.is_disabled("#voice-listen")
    page.select_option("select[name=language]", "de")
    page.select_option("select[name=voice]", "de-adult-female")
    page.click("#voice-listen")
    page.wait_for_function(
        "() => document.querySelector('#voice-listen').dataset.state === 'playing'",
        timeout=30_000,
    )
    assert "Stop" in page.text_content("#voice-listen")
    page.wait_for_function(  # the sentence ends by itself
        "() => document.querySelector('#voice-listen').dataset.state === 'idle'", timeout=20_000
    )
    # The template's mood, then another mood; Stop stops it.
    page.click("#music-listen")
    page.wait_for_function(
        "() => document.querySelector('#music-listen').dataset.state === 'playing'",
        timeout=30_000,
    )
    page.select_option("select[name=music]", "calm")
    assert page.get_attribute("#music-listen", "data-state") == "idle"
    page.click("#music-listen")
    page.wait_for_function(
        "() => document.querySelector('#music-listen').dataset.state === 'playing'",
        timeout=30_000,
    )
    page.click("#music-listen")
    assert page.get_attribute("#music-listen", "data-state") == "idle"
    page.select_option("select[name=music]", "none")
    assert page.is_disabled("#music-listen")
    screenshot(page, shots, "video-samples")


def test_a_yaml_storyboard_is_checked_by_the_server_and_previewed(
    pages: Browser, toy_server: Server, shots: Path
) -> None:
    page = open_studio(pages, toy_server)
    page.wait_for_selector("#video-form")
    page.check("input[name=source-kind][value=storyboard]")
    board = (
        "title: Fresh bread\nformat: 9:16\nscenes:\n"
        "  - title: Morning\n    narration: The ovens are warm.\n"
        "  - narration: Loaves come out golden.\n    duration: 3\n"
    )
    page.set_input_files(
        "#storyboard-file",
        files=[{"name": "bread.yaml", "mimeType": "text/yaml", "buffer": board.encode()}],
    )
    page.wait_for_function("() => document.querySelectorAll('#scene-preview li').length === 2")
    assert "Morning" in page.text_content("#scene-preview")
    assert "3 s" in page.text_content("#scene-preview")
    status = page.text_content("#storyboard-status")
    assert "2 scenes" in status
    # The estimate is the storyboard's, as long as the server's check said.
    seconds = status.split("about ")[1].split(" s")[0]
    page.wait_for_function(
        "s => document.querySelector('#price').textContent.includes(`about ${s} s of video`)",
        arg=seconds,
    )
    screenshot(page, shots, "storyboard")
    # A broken file: the server's message, with its line, beside the file field.
    page.set_input_files(
        "#storyboard-file",
        files=[{"name": "broken.yml", "mimeType": "text/yaml", "buffer": b"scenes:\n  - [oops\n"}],
    )
    assert "invalid YAML at line" in field_error(page, "storyboard", invalid="#storyboard-file")
    assert page.locator("#scene-preview li").count() == 0


def test_ranked_results_show_as_a_grid_with_scores_and_reasons(
    pages: Browser, toy_server: Server, shots: Path
) -> None:
    page = open_studio(pages, toy_server)
    page.click("#nav a:text-is('Ranks')")
    page.wait_for_selector("#kind-form")
    page.fill("input[name=count]", "3")
    page.click("#kind-form button[type=submit]")
    assert wait_for_final(page, timeout=30)["status"] == "Done"
    page.wait_for_selector("#outputs.ranked li.ranked-item img")
    cards = page.eval_on_selector_all(
        "#outputs li.ranked-item",
        """items => items.map(i => ({
              rank: i.dataset.rank,
              title: i.querySelector('.ranked-title').textContent,
              score: i.querySelector('meter')?.value,
              reasons: [...i.querySelectorAll('.reasons li')].map(r => r.textContent),
              times: i.querySelector('.meta')?.textContent,
              downloads: [...i.querySelectorAll('.downloads a')].map(a => a.textContent),
              saved: [...i.querySelectorAll('.downloads a')].map(a => a.dataset.name),
           }))""",
    )
    # Best first, though the manifest listed them worst first; each with its own outputs.
    assert [c["rank"] for c in cards] == ["1", "2", "3"], cards
    assert cards[0]["title"] == "Moment 1" and cards[0]["score"] == pytest.approx(0.75)
    assert cards[0]["reasons"] == ["a strong hook", "a complete thought"]
    assert cards[1]["times"].startswith("0:20.0 – 0:27.5")
    # Its own outputs, named without the number inside the card.
    assert cards[2]["saved"] == ["shot-3", "shot-3-words"]
    assert cards[2]["downloads"] == ["image", "words"]
    page.wait_for_function(  # each card shows its own picture (download names with hyphens)
        "() => document.querySelector('[data-rank=\"2\"] img')?.naturalWidth === 180"
    )
    # Every output is still a download, the manifest too.
    names = page.eval_on_selector_all("#downloads a", "links => links.map(a => a.textContent)")
    assert "manifest" in names and len(names) == 7
    screenshot(page, shots, "ranked-result")
    phone = pages.page(PHONE)
    phone.goto(page.url)
    phone.wait_for_selector("#outputs.ranked li.ranked-item img")
    phone.wait_for_function(
        "() => document.querySelector('[data-rank=\"3\"] img')?.naturalWidth === 180"
    )
    screenshot(phone, shots, "ranked-result")


@pytest.mark.slow
def test_a_real_clips_job_shows_its_ranked_clips(
    pages: Browser, toy_server: Server, shots: Path, tmp_path: Path
) -> None:
    """The clips kind end to end in the page: upload a talk into its generated form, run it
    (Whisper tiny.en, face tracking, encodes: a minute or more), see the ranked clips play."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: the talking-head maker
    from clips_media import narrate, talking_head

    narration = narrate(
        ["Why is pricing so hard?", "Because nobody tells you what customers will pay."],
        tmp_path / "voice",
    )
    talk, _ = talking_head(tmp_path / "talk.mp4", narration, (320, 180))
    page = open_studio(pages, toy_server)
    page.click("#nav a:text-is('Clips')")
    page.wait_for_selector("#kind-form")
    page.set_input_files("[data-field=video] input[type=file]", str(talk))
    page.wait_for_function(
        "() => document.querySelector('input[name=video]').value.startsWith('media:')"
    )
    for name, value in (("count", "2"), ("min", "2"), ("max", "6"), ("resolution", "240")):
        page.fill(f"input[name={name}]", value)
    page.select_option("select[name=model]", "tiny.en")
    page.select_option("select[name=format]", "1:1")
    page.click("#kind-form button[type=submit]")
    assert wait_for_final(page, timeout=300)["status"] == "Done", page.text_content("#job-error")
    page.wait_for_selector("#outputs.ranked li.ranked-item video")
    first = page.locator("li.ranked-item[data-rank='1']")
    assert first.locator(".reasons li").count() >= 1
    assert first.locator("video track").count() == 1
    page.evaluate(
        "() => { const v = document.querySelector('li.ranked-item video'); v.muted = true; "
        "v.play(); }"
    )
    page.wait_for_function(
        "() => document.querySelector('li.ranked-item video').currentTime > 0.3", timeout=30_000
    )
    screenshot(page, shots, "clips-result")


def test_the_talking_form_takes_several_portraits(
    pages: Browser, toy_server: Server, shots: Path, tmp_path: Path
) -> None:
    """The talking kind's portrait field is a picker: several pictures uploaded at once, shown
    in order with thumbnails, one removed, sent as a list; the job renders them (preview)."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    files = []
    for k, pixels in enumerate((data.astronaut(), data.astronaut()[:, ::-1])):
        files.append(tmp_path / f"pose{k + 1}.jpg")
        Image.fromarray(pixels).save(files[-1], quality=85)
    files.append(tmp_path / "extra.png")
    Image.fromarray(data.astronaut()[::2, ::2]).save(files[-1])
    page = open_studio(pages, toy_server)
    page.click("#nav a:text-is('Talking')")
    page.wait_for_selector("#kind-form [data-field=portrait] .media-list")
    page.set_input_files("[data-field=portrait] input[type=file]", [str(f) for f in files])
    page.wait_for_function("() => document.querySelectorAll('.picked li img').length === 3")
    page.click("[data-field=portrait] button[aria-label^='Remove picture 3']")
    page.wait_for_function("() => document.querySelectorAll('.picked li').length === 2")
    chosen = page.input_value("input[name=portrait]").split(", ")
    assert len(chosen) == 2 and all(c.startswith("media:") for c in chosen), chosen
    page.fill("textarea[name=script]", "The first scene.\n\nThe second one.")
    page.check("input[name=preview]")
    assert page.evaluate(AUDIT) == {"unlabelled": [], "low": []}
    screenshot(page, shots, "talking-portraits")
    with page.expect_request("**/api/talking") as sent:
        page.click("#kind-form button[type=submit]")
    assert sent.value.post_data_json["portrait"] == chosen
    assert wait_for_final(page)["status"] == "Done", page.text_content("#job-error")
    page.click("#variant")  # a variant re-opens the form with the same pictures, in order
    page.wait_for_function("() => document.querySelectorAll('.picked li').length === 2")
    assert page.input_value("input[name=portrait]").split(", ") == chosen


def astronaut_jpeg(folder: Path, name: str, size: int | None = None) -> Path:
    """skimage's astronaut as a JPEG (``size``: shrunk to a square, its face then too small)."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    picture = Image.fromarray(data.astronaut())
    if size:
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
    path = folder / name
    picture.save(path, quality=85)
    return path


def open_podcasts(pages: Browser, server: Server) -> Any:
    page = open_studio(pages, server)
    page.click("#nav a:text-is('Podcasts')")
    page.wait_for_selector("[data-field=speakers] .item-row")
    return page


def test_the_podcast_form_edits_speakers_row_by_row(
    pages: Browser, toy_server: Server, shots: Path, tmp_path: Path
) -> None:
    """Speakers as rows (HOST and GUEST when the form opens), added and removed within the
    schema's bounds; one a built-in character, one an uploaded portrait with a chosen voice;
    the body sent holds exactly the filled fields, and the podcast renders (preview)."""
    import httpx

    page = open_podcasts(pages, toy_server)
    rows = page.locator("[data-field=speakers] .item-row")
    assert rows.count() == 2
    assert page.input_value("input[name='speakers.0.label']") == "HOST"
    assert page.input_value("input[name='speakers.1.label']") == "GUEST"
    add = page.locator("[data-field=speakers] button:text-is('Add a speaker')")
    add.click()
    add.click()  # four, the schema's most: no more
    assert rows.count() == 4 and add.is_disabled()
    assert page.evaluate("() => document.activeElement.name") == "speakers.3.label"
    page.fill("input[name='speakers.2.label']", "THIRD")
    page.click("button:text-is('Remove speaker 2')")  # the rows after it move up
    assert rows.count() == 3 and page.input_value("input[name='speakers.1.label']") == "THIRD"
    page.click("button:text-is('Remove speaker 2')")
    page.click("button:text-is('Remove speaker 2')")
    assert rows.count() == 1 and page.is_disabled("button:text-is('Remove speaker 1')")
    add.click()
    page.fill("input[name='speakers.1.label']", "GUEST")
    page.fill("input[name='speakers.0.name']", "Maya")
    page.fill("input[name='speakers.0.role']", "Host")
    page.select_option("select[name='speakers.0.character']", "maya")
    page.fill("input[name='speakers.1.name']", "Buzz")
    page.select_option("select[name='speakers.1.voice']", "en-adult-male")
    photo = astronaut_jpeg(tmp_path, "buzz.jpg")
    page.set_input_files("[data-field='speakers.1.portrait'] input[type=file]", str(photo))
    page.wait_for_selector("[data-field='speakers.1.portrait'] .picked li img")
    portrait = page.input_value("input[name='speakers.1.portrait']")
    assert portrait.startswith("media:"), portrait
    dialogue = "HOST: Welcome to the show.\nGUEST: Thanks, glad to be here."
    page.fill("textarea[name=dialogue]", dialogue)
    page.check("input[name=preview]")
    assert page.evaluate(AUDIT) == {"unlabelled": [], "low": []}
    screenshot(page, shots, "podcast-speakers")
    with page.expect_request("**/api/podcasts") as sent:
        page.click("#kind-form button[type=submit]")
    body = sent.value.post_data_json
    assert body["speakers"] == [
        {"label": "HOST", "name": "Maya", "role": "Host", "character": "maya"},
        {"label": "GUEST", "name": "Buzz", "voice": "en-adult-male", "portrait": portrait},
    ]
    assert "" not in body.values() and body["preview"] is True, body
    assert wait_for_final(page)["status"] == "Done", page.text_content("#job-error")
    job = page.url.rsplit("/", 1)[-1]
    manifest = httpx.get(f"{toy_server.base}/api/jobs/{job}/files/manifest", timeout=10).json()
    host, guest = manifest["speakers"]
    assert (host["name"], host["character"], host["portrait"]) == ("Maya", "maya", False)
    assert (guest["name"], guest["voice"], guest["portrait"]) == ("Buzz", "en-adult-male", True)
    page.click("#variant")  # a variant re-opens the rows as they were sent
    page.wait_for_selector("[data-field='speakers.1.portrait'] .picked li")
    assert page.input_value("select[name='speakers.0.character']") == "maya"
    assert page.input_value("input[name='speakers.1.portrait']") == portrait


def test_a_nested_error_shows_beside_its_speaker_field(
    pages: Browser, toy_server: Server, tmp_path: Path
) -> None:
    """The server's 422 naming speakers.N.field, as a validation error or as an upload it
    refuses (a face too small), shows beside that field of that speaker, and nowhere else; one
    naming speakers.N, on that speaker's row."""
    page = open_podcasts(pages, toy_server)
    page.fill("textarea[name=dialogue]", "HOST: Hello.\nGUEST: Hi.")
    label = "input[name='speakers.1.label']"
    page.fill(label, "2nd")
    page.click("#kind-form button[type=submit]")
    assert "pattern" in field_error(page, "speakers.1.label", invalid=label)
    assert page.evaluate("() => document.activeElement.name") == "speakers.1.label"
    assert page.locator(".field-error:visible").count() == 1
    page.fill(label, "GUEST")
    tiny = astronaut_jpeg(tmp_path, "tiny.jpg", size=256)
    page.set_input_files("[data-field='speakers.0.portrait'] input[type=file]", str(tiny))
    page.wait_for_selector("[data-field='speakers.0.portrait'] .picked li img")
    # A problem with the speaker as a whole (a portrait and a character) shows on its row.
    page.select_option("select[name='speakers.0.character']", "leo")
    page.click("#kind-form button[type=submit]")
    assert "not both" in field_error(page, "speakers.0", own=True)
    assert page.locator(".field-error:visible").count() == 1
    page.select_option("select[name='speakers.0.character']", "")
    page.click("#kind-form button[type=submit]")
    assert "the face is too small" in field_error(page, "speakers.0.portrait", own=True)
    assert page.locator(".field-error:visible").count() == 1
    assert "#/job/" not in page.url


def test_translated_captions_are_chosen_and_downloaded(
    pages: Browser, toy_server: Server, translating_server: Server, shots: Path
) -> None:
    """Without a translation engine the choice is disabled and says what to set; with one
    (a fake chat server), French and Spanish are picked from the filtered list (never the
    narration's own language), sent as ``translate``, and the job's page offers each
    language's captions as a download and a subtitle track."""
    page = open_studio(pages, toy_server)
    page.wait_for_selector("#translate")
    assert page.evaluate("() => document.querySelector('#translate').disabled")
    assert page.is_disabled("#translate-languages li[data-code=fr] input")
    assert "no translation engine" in page.text_content("#translate-help")
    page.click("#translate-help summary")  # how to turn it on: the settings, on the server
    assert page.is_visible("#translate-help details p:has-text('REELFORGE_TRANSLATION_MODEL')")
    assert page.evaluate(AUDIT) == {"unlabelled": [], "low": []}
    page.locator("#translate").screenshot(path=str(shots / "translate-off-desktop.png"))
    page.context.close()

    page = open_studio(pages, translating_server)
    page.wait_for_selector("#translate")
    assert page.is_enabled("#translate-languages li[data-code=fr] input")
    page.select_option("select[name=language]", "en")
    assert page.is_disabled("#translate-languages li[data-code=en] input")
    for typed, code in (("fren", "fr"), ("es", "es")):
        page.fill("#translate-filter", typed)
        assert page.is_hidden("#translate-languages li[data-code=de]")
        page.check(f"#translate-languages li[data-code={code}] input")
    page.fill("#translate-filter", "")
    assert page.text_content("#translate-summary") == "2 chosen: French, Spanish."
    page.fill("#script", "Fresh bread every morning. Come and taste it!")
    page.check("input[name=preview]")
    assert page.evaluate(AUDIT) == {"unlabelled": [], "low": []}
    page.locator("#translate").screenshot(path=str(shots / "translate-field-desktop.png"))
    with page.expect_request("**/api/videos") as sent:
        page.click("#submit")
    assert sent.value.post_data_json["translate"] == ["fr", "es"]
    assert wait_for_final(page)["status"] == "Done", page.text_content("#job-error")
    page.wait_for_selector("#translated-downloads a[data-name='captions.es.vtt']")
    rows = page.eval_on_selector_all(
        "#translated-downloads > li",
        "rows => rows.map(r => [r.querySelector('.language').textContent,"
        " [...r.querySelectorAll('a')].map(a => a.dataset.name)])",
    )
    assert rows == [
        ["Spanish", ["captions.es.srt", "captions.es.vtt"]],
        ["French", ["captions.fr.srt", "captions.fr.vtt"]],
    ], rows
    tracks = page.evaluate(
        "() => [...document.querySelectorAll('#player track')]"
        ".map(t => [t.kind, t.srclang, t.label])"
    )
    assert ["subtitles", "fr", "French"] in tracks and ["subtitles", "es", "Spanish"] in tracks
    french = page.evaluate(
        'async () => (await fetch(document.querySelector("#player track[srclang=fr]").src)).text()'
    )
    assert french.startswith("WEBVTT") and "[fr] " in french, french
    screenshot(page, shots, "translated-result")
