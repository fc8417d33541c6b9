// The video page: script (with its scenes previewed live) or storyboard, template gallery,
// language, voice, music, format, captions, duration, uploads, price estimate, submit.

import { api, ApiError } from "./api.js";
import { debounce, h, replace, uniqueId } from "./dom.js";
import { clearErrors, field, mediaButton, showProblem } from "./forms.js";
import { recall, remember } from "./requests.js";
import { splitScript } from "./scenes.js";

const SAMPLE = `# Fresh bread

## Every morning
At five o'clock the ovens are already warm.

## Made by hand
Each loaf is shaped by hand and baked until golden.`;

const cache = {};
async function catalogue(name, path) {
  cache[name] ??= api("GET", path);
  return cache[name];
}

/** Where an error about storyboard field ``path`` shows on this form. */
export function videoField(path) {
  if (path.startsWith("(detail)")) {
    const text = path.slice(8).toLowerCase();
    for (const [word, name] of [["translat", "translate"], ["template", "template"], ["voice", "voice"], ["language", "language"],
      ["music", "music"], ["caption", "captions"], ["format", "format"], ["duration", "duration"]]) {
      if (text.includes(word)) return name;
    }
    return "source";
  }
  const first = path.split(".")[0];
  return {
    target_duration: "duration", scenes: "source", script: "source", storyboard: "source",
    music: "music", captions: "captions", template: "template", voice: "voice",
    language: "language", format: "format", title: "title", duration: "duration",
    preview: "preview", resolution: "format",
  }[first] || first;
}

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

export async function renderVideo(main, { variant = null } = {}) {
  const [templates, voices, moods, options] = await Promise.all([
    catalogue("templates", "/api/templates"),
    catalogue("voices", "/api/voices"),
    catalogue("moods", "/api/music-moods"),
    catalogue("options", "/api/options"),
  ]);
  const previous = variant ? recall(variant) : null;
  const start = previous?.kind === "video" ? previous.form : {};

  // --- source: script or storyboard ---------------------------------------------------------
  const script = h("textarea#script", { name: "script", rows: 12, dir: "auto", spellcheck: "true" });
  script.value = start.script ?? SAMPLE;
  const scenesList = h("ol.scenes#scene-preview", { "aria-live": "polite" });
  const scenesSummary = h("p.help#scene-summary");
  let storyboard = start.storyboard ?? null;
  const boardStatus = h("p.help#storyboard-status", {}, storyboard ? "Storyboard loaded (from the earlier job)." : "");
  const boardInput = h("input#storyboard-file", { type: "file", accept: ".yaml,.yml,.json,application/json,application/yaml,text/yaml" });
  // The storyboard's scenes as the server read them (POST /api/storyboards/validate).
  let boardScenes = storyboard ? sceneList(storyboard) : [];
  const useScript = h("input", { type: "radio", name: "source-kind", value: "script", checked: !storyboard, id: uniqueId("src") });
  const useBoard = h("input", { type: "radio", name: "source-kind", value: "storyboard", checked: Boolean(storyboard), id: uniqueId("src") });

  const insertMedia = (media) => {
    const name = (media.filename || media.kind).replace(/[[\]()]/gu, "");
    const at = script.selectionEnd ?? script.value.length;
    const before = script.value.slice(0, at);
    const gap = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    const snippet = `${gap}![${name}](${media.reference})\n`;
    script.value = before + snippet + script.value.slice(at);
    script.selectionStart = script.selectionEnd = at + snippet.length;
  };
  const scriptPanel = h("div.source-panel#script-panel",
    field("source", "Script", script,
      "Markdown or plain text: '# Title', one '## heading' per scene (or one paragraph per scene). Right-to-left scripts are shown right to left.").wrap,
    h("div.upload-row", {}, h("span.help", {}, "Pictures or clips for a scene:"),
      mediaButton(script, { insert: insertMedia })));
  const boardPanel = h("div.source-panel#storyboard-panel",
    field("storyboard", "Storyboard file (YAML or JSON)", boardInput,
      "A storyboard as YAML or JSON (see `reelforge schema`), checked by the server as you load it; files in it only as media:<id> uploads.").wrap,
    boardStatus);
  boardInput.addEventListener("change", async () => {
    const file = boardInput.files[0];
    if (!file) return;
    const wrap = boardPanel.querySelector("[data-field=storyboard]");
    const errorLine = wrap.querySelector(".field-error");
    errorLine.hidden = true;
    boardInput.removeAttribute("aria-invalid");
    boardStatus.textContent = `Checking ${file.name}…`;
    try {
      const syntax = /\.json$/iu.test(file.name) ? "json" : "yaml";
      const checked = await api("POST", "/api/storyboards/validate", { json: { text: await file.text(), syntax } });
      storyboard = checked.storyboard;
      boardScenes = checked.scenes;
      boardStatus.textContent = `${file.name}: ${checked.scenes.length} scene${checked.scenes.length === 1 ? "" : "s"}, about ${Math.round(checked.duration_s)} s.`;
    } catch (error) {
      storyboard = null;
      boardScenes = [];
      boardStatus.textContent = "";
      errorLine.textContent = `${file.name}: ${error.message}${error.problem?.hint ? ` (${error.problem.hint})` : ""}`;
      errorLine.hidden = false;
      boardInput.setAttribute("aria-invalid", "true");
    }
    changed();
  });

  const sourceSwitch = h("fieldset.switch", {}, h("legend", {}, "Start from"),
    h("span", {}, useScript, h("label", { for: useScript.id }, "a script")),
    h("span", {}, useBoard, h("label", { for: useBoard.id }, "a storyboard file")));

  // --- look and sound -------------------------------------------------------------------------
  const gallery = h("div.gallery", { role: "radiogroup", "aria-labelledby": "template-label" },
    [{ name: "", description: "The script's own choice, or the default look.", palette: [] }, ...templates].map((t) => {
      const id = uniqueId("tpl");
      return h("div.template", {},
        h("input", { type: "radio", name: "template", value: t.name, id, checked: (start.template ?? "") === t.name }),
        h("label", { for: id },
          t.name
            ? h("img.template-still", { src: `/api/templates/${encodeURIComponent(t.name)}/thumbnail`, alt: "",
              width: 320, height: 180, loading: "lazy", decoding: "async" })
            : h("span.template-still.none", { "aria-hidden": "true" }),
          h("strong", {}, t.name || "Automatic"),
          h("span.small", {}, t.description),
          t.name ? h("span.small.meta", {}, `${t.caption_style} captions · ${t.music_mood} music`) : null));
    }));
  const templateField = h("div.field", { dataset: { field: "template" } },
    h("span.label#template-label", {}, "Template"), gallery,
    h("p.field-error", { role: "alert", hidden: true }));

  const languages = options.languages || [];
  const language = h("select", { name: "language" }, option("", "Detect from the script", start.language ?? ""),
    languages.map((l) => option(l, l, start.language)));
  // The genders and ages the catalogue has, youngest first (the voices' own words).
  const AGE_ORDER = ["baby", "toddler", "child", "preteen", "teen", "young", "adult", "senior"];
  const ranked = (values, order) => [...new Set(values)].sort((a, b) =>
    ((order.indexOf(a) + 1) || 99) - ((order.indexOf(b) + 1) || 99) || a.localeCompare(b));
  const gender = h("select", { name: "gender" }, option("", "Any", start.gender ?? ""),
    ranked(voices.map((v) => v.gender), ["female", "male", "neutral"]).map((g) => option(g, g, start.gender)));
  const age = h("select", { name: "age" }, option("", "Any", start.age ?? ""),
    ranked(voices.map((v) => v.age), AGE_ORDER).map((a) => option(a, a, start.age)));
  const voice = h("select", { name: "voice" });
  const fillVoices = () => {
    const keep = voice.value || start.voice || "";
    const shown = voices.filter((v) => (!language.value || v.language === language.value)
      && (!gender.value || v.gender === gender.value) && (!age.value || v.age === age.value));
    replace(voice, option("", shown.length ? "Automatic for the language" : "No voice matches: automatic", ""),
      shown.map((v) => option(v.id, `${v.id} — ${v.description}`, keep)));
  };
  fillVoices();
  for (const el of [language, gender, age]) el.addEventListener("change", fillVoices);

  const music = h("select", { name: "music" }, option("", "The template's mood", start.music ?? ""),
    moods.map((m) => option(m.name, `${m.name} — ${m.description}`, start.music)), option("none", "No music", start.music));
  const format = h("select", { name: "format" }, option("", "The script's choice (16:9)", start.format ?? ""),
    (options.formats || ["16:9", "9:16", "1:1"]).map((f) => option(f, { "16:9": "16:9 landscape", "9:16": "9:16 vertical", "1:1": "1:1 square" }[f] || f, start.format)));
  const captions = h("select", { name: "captions" }, option("", "The template's style", start.captions ?? ""),
    (options.caption_styles || []).map((c) => option(c, c === "none" ? "No captions" : c, start.captions)));
  const duration = h("input", { type: "number", name: "duration", min: 1, max: 3600, step: "any", inputmode: "decimal", value: start.duration ?? "" });
  const title = h("input", { type: "text", name: "title", maxlength: 200, dir: "auto", value: start.title ?? "" });
  const preview = h("input", { type: "checkbox", name: "preview", checked: start.preview ?? true });
  const translate = translateField(options.translation, start.translate || []);

  // --- samples to hear: one player for the page, a Listen button beside each select ----------
  const player = new Audio();
  player.preload = "none";
  let playing = null; // the button whose sample plays
  const stopSample = () => {
    player.pause();
    if (playing) setListen(playing, "idle");
    playing = null;
  };
  player.addEventListener("playing", () => playing && setListen(playing, "playing"));
  player.addEventListener("ended", stopSample);
  player.addEventListener("error", () => {
    if (playing) setListen(playing, "error");
    playing = null;
  });
  const listenButton = (id, what, sampleUrl) => {
    const button = h(`button.secondary.listen#${id}`, { type: "button", dataset: { what } });
    setListen(button, "idle");
    button.addEventListener("click", () => {
      if (playing === button) {
        stopSample();
        return;
      }
      stopSample();
      const url = sampleUrl();
      if (!url) return;
      playing = button;
      setListen(button, "loading");
      player.src = url;
      player.play().catch(() => {
        if (playing === button) setListen(button, "error");
      });
    });
    return button;
  };
  const chosenTemplate = () => {
    const name = form.querySelector("input[name=template]:checked")?.value || "default";
    return templates.find((t) => t.name === name) || templates.find((t) => t.name === "default");
  };
  const voiceListen = listenButton("voice-listen", "voice", () =>
    voice.value ? `/api/voices/${encodeURIComponent(voice.value)}/sample` : null);
  const musicListen = listenButton("music-listen", "music mood", () => {
    const mood = music.value || chosenTemplate()?.music_mood;
    return mood && mood !== "none" ? `/api/music-moods/${encodeURIComponent(mood)}/sample` : null;
  });
  const updateListen = () => {
    voiceListen.disabled = !voice.value;
    voiceListen.title = voice.value ? "" : "Choose a voice to hear it";
    musicListen.disabled = music.value === "none";
  };

  const price = h("output.price#price", { "aria-live": "polite" }, "…");
  const general = h("p.form-error", { role: "alert", tabindex: -1, hidden: true });
  const submit = h("button.primary#submit", { type: "submit" }, "Make the video");

  const form = h("form.video-form#video-form", { novalidate: true },
    h("div.columns", {},
      h("section.card.source", { "aria-labelledby": "source-heading" },
        h("h2#source-heading", {}, "Script"), sourceSwitch, scriptPanel, boardPanel,
        h("h3", {}, "Scenes"), scenesSummary, scenesList),
      h("section.card.settings", { "aria-labelledby": "settings-heading" },
        h("h2#settings-heading", {}, "Look and sound"),
        templateField,
        field("title", "Title", title, "Shown on the first scene; the script's '# title' by default.").wrap,
        h("div.row", {}, field("language", "Language", language).wrap, field("format", "Format", format).wrap),
        h("fieldset.voice-filter", {}, h("legend", {}, "Voice"),
          h("div.row", {}, field("gender", "Gender", gender).wrap, field("age", "Age", age).wrap),
          withListen(field("voice", "Voice", voice), voiceListen)),
        h("div.row", {}, withListen(field("music", "Music", music), musicListen), field("captions", "Captions", captions).wrap),
        translate.wrap,
        h("div.row", {}, field("duration", "Duration (seconds)", duration, "At least this long; empty: as long as the narration.").wrap,
          field("preview", "Quick preview (360p, faster)", preview).wrap))),
    h("div.submit-bar", {}, general, h("div.price-box", {}, h("span.label", {}, "Estimate"), price), submit));

  replace(main, h("h1", { tabindex: -1 }, previous ? "Make a variant" : "Make a video"),
    previous ? h("p.help", {}, `Same inputs as job ${variant}; change what you like.`) : null, form);

  // --- behaviour ------------------------------------------------------------------------------
  function formState() {
    const chosen = form.querySelector("input[name=template]:checked");
    return {
      script: script.value, storyboard: useBoard.checked ? storyboard : null,
      template: chosen ? chosen.value : "", language: language.value, gender: gender.value,
      age: age.value, voice: voice.value, music: music.value, format: format.value,
      captions: captions.value, duration: duration.value, title: title.value, preview: preview.checked,
      translate: translate.chosen(),
    };
  }

  function body() {
    const s = formState();
    const out = {};
    if (useBoard.checked) out.storyboard = storyboard ?? {};
    else out.script = s.script;
    for (const name of ["template", "language", "voice", "music", "format", "captions", "title"]) {
      if (s[name]) out[name] = s[name];
    }
    if (s.duration !== "") out.duration = Number(s.duration);
    if (s.translate.length) out.translate = s.translate;
    out.preview = s.preview;
    return out;
  }

  function updateSource() {
    scriptPanel.hidden = !useScript.checked;
    boardPanel.hidden = !useBoard.checked;
  }

  function updateScenes() {
    if (useBoard.checked) {
      const scenes = boardScenes;
      scenesSummary.textContent = storyboard
        ? `${scenes.length} scene${scenes.length === 1 ? "" : "s"} in the storyboard.`
        : "Load a storyboard file to see its scenes.";
      replace(scenesList, scenes.map((s) => h("li", { dir: "auto" },
        s.title ? h("strong", {}, s.title) : null,
        h("span", {}, s.narration || "(a silent picture)"),
        s.visual ? h("span.small.meta", {}, `picture: ${s.visual}`) : null,
        s.duration ? h("span.small.meta", {}, `${s.duration} s`) : null)));
      return;
    }
    const { title: found, scenes } = splitScript(script.value);
    const words = scenes.reduce((sum, s) => sum + s.words, 0);
    scenesSummary.textContent = scenes.length
      ? `${scenes.length} scene${scenes.length === 1 ? "" : "s"}, ${words} words (about ${Math.round(words / 2.5)} s of narration)${found ? `; title: ${found}` : ""}.`
      : "No scenes yet: write at least one sentence.";
    replace(scenesList, scenes.map((s) => h("li", { dir: "auto" },
      s.title ? h("strong", {}, s.title) : null,
      h("span", {}, s.narration || "(a silent picture)"),
      s.visual ? h("span.small.meta", {}, `picture: ${s.visual}`) : null,
      h("span.small.meta", {}, `${s.words} words`))));
  }

  const updatePrice = debounce(async () => {
    try {
      const estimate = await api("POST", "/api/pricing", { json: body() });
      const money = new Intl.NumberFormat(undefined, { style: "currency", currency: estimate.currency || "USD", maximumFractionDigits: 4 }).format(estimate.cost);
      price.textContent = `${money} · about ${Math.round(estimate.duration_s)} s of video, ${Math.round(estimate.compute_s)} s of compute (${estimate.queue})`;
      price.dataset.state = "ok";
    } catch (error) {
      price.textContent = error instanceof ApiError ? `Cannot price this yet: ${error.message}` : "Cannot price this yet.";
      price.dataset.state = "error";
    }
  }, 350);

  function changed(event) {
    if (event && (event.target === voice || event.target === music || event.target?.name === "template")) stopSample();
    translate.update(language.value);
    updateListen();
    updateSource();
    updateScenes();
    updatePrice();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    submit.textContent = "Submitting…";
    try {
      const sent = body();
      if (sent.script !== undefined && !sent.script.trim()) {
        throw new ApiError(422, { errors: [{ field: "script", message: "The script is empty: write or paste what the narrator reads." }] });
      }
      const accepted = await api("POST", "/api/videos", { json: sent });
      remember(accepted.id, { kind: "video", path: "/api/videos", body: sent, form: formState() });
      location.hash = `#/job/${accepted.id}`;
    } catch (error) {
      // In storyboard mode, what concerns the scenes belongs to the storyboard file.
      showProblem(form, error, (path) => {
        const name = videoField(path);
        return name === "source" && useBoard.checked ? "storyboard" : name;
      });
    } finally {
      submit.disabled = false;
      submit.textContent = "Make the video";
    }
  });
  changed();
  return stopSample;
}

/** The scenes of a storyboard kept from an earlier job (strings are narration only). */
function sceneList(board) {
  return (Array.isArray(board?.scenes) ? board.scenes : []).map((scene) => (typeof scene === "string"
    ? { narration: scene }
    : { title: scene?.title, narration: scene?.narration || "", visual: scene?.visual?.path, duration: scene?.duration }));
}

/**
 * Translated captions: a filterable list of the languages the server translates into (its
 * /api/options), at most ``max_languages`` chosen, never the narration's own; disabled, with the
 * server's reason and fix, when no translation engine is configured there.
 */
function translateField(translation, chosen) {
  const about = translation || { available: false, languages: [], reason: "", max_languages: 0 };
  const picked = new Set(chosen);
  const byName = [...about.languages].sort((a, b) => a.name.localeCompare(b.name));
  const boxes = byName.map((lang) => {
    const id = uniqueId("tr");
    const box = h("input", { type: "checkbox", name: "translate", value: lang.code, id, checked: picked.has(lang.code) });
    const item = h("li", { dataset: { code: lang.code, name: lang.name.toLowerCase() } },
      box, h("label", { for: id }, lang.name, h("span.small.meta", {}, ` ${lang.code}`)));
    return { lang, box, item };
  });
  const filter = h("input#translate-filter", { type: "search", autocomplete: "off", spellcheck: "false",
    placeholder: "Filter: French, ar…", "aria-label": "Filter the languages" });
  const summary = h("p.help#translate-summary", { "aria-live": "polite" });
  const help = about.available
    ? h("p.help", {}, `Caption tracks in other languages (at most ${about.max_languages}): soft subtitles in the MP4 and their own .srt and .vtt downloads, translated by ${about.engine}. The burned-in captions stay in the narration's language.`)
    : h("div.help", {}, h("p.help", {}, `Not available on this server: ${about.reason || "no translation engine is configured"}.`),
      about.hint ? h("details.fix", {}, h("summary", {}, "How to turn it on"), h("p.help", {}, `On the server: ${about.hint}.`)) : null);
  const list = h("ul.languages#translate-languages", {}, boxes.map((b) => b.item));
  const wrap = h("fieldset.translate#translate", { disabled: !about.available, dataset: { field: "translate" },
    "aria-describedby": "translate-help translate-summary" },
  h("legend", {}, "Translated captions"), h("div#translate-help", {}, help),
  h("div.translate-tools", {}, filter, summary), list,
  h("p.field-error", { role: "alert", hidden: true }));
  filter.addEventListener("input", () => {
    const text = filter.value.trim().toLowerCase();
    for (const { item } of boxes) {
      item.hidden = Boolean(text) && !item.dataset.name.includes(text) && !item.dataset.code.startsWith(text);
    }
  });
  const selected = () => boxes.filter((b) => b.box.checked && !b.box.disabled).map((b) => b.lang);
  return {
    wrap,
    chosen: () => selected().map((lang) => lang.code),
    /** Keep the list consistent: not the narration's own language, not more than allowed. */
    update(narration) {
      const own = (narration || "").split("-")[0];
      const full = selected().length >= about.max_languages;
      for (const { lang, box, item } of boxes) {
        const isOwn = lang.code === own;
        if (isOwn) box.checked = false;
        box.disabled = isOwn || (full && !box.checked);
        item.title = isOwn ? "The narration's own language: its captions are burned in" : "";
      }
      const names = selected().map((lang) => lang.name);
      summary.textContent = !about.available ? ""
        : names.length ? `${names.length} chosen: ${names.join(", ")}${full ? " (the most a video takes)" : ""}.`
          : "None chosen: captions in the narration's language only.";
    },
  };
}

/** The field's control and its Listen button side by side. */
function withListen(built, button) {
  const row = h("div.with-action", {});
  built.control.replaceWith(row);
  row.append(built.control, button);
  return built.wrap;
}

function setListen(button, state) {
  button.dataset.state = state;
  button.textContent = { loading: "… Loading", playing: "■ Stop", error: "⚠ No sample" }[state] || "▶ Listen";
  const spoken = { loading: "Loading the sample of the", playing: "Stop the sample of the", error: "No sample of the" }[state] || "Listen to a sample of the";
  button.setAttribute("aria-label", `${spoken} ${button.dataset.what}`);
}
