// One job: live progress over its event stream (stage, percent, ETA), cancel, retry, delete;
// then the result: the player with its caption track, the thumbnail, every download, and
// "make a variant". Kinds other than video show their outputs in a grid.

import { api, download, fileUrl, followEvents, getKey } from "./api.js";
import { announce, formatSeconds, formatTime, h, replace } from "./dom.js";
import { recall } from "./requests.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);
const STATUS_TEXT = {
  submitted: "Submitted", queued: "Waiting in the queue", processing: "Preparing",
  rendering: "Rendering", post_processing: "Finishing", uploading: "Saving the results",
  completed: "Done", failed: "Failed", cancelled: "Cancelled",
};

export function statusBadge(status) {
  return h(`span.status.status-${status}`, {}, STATUS_TEXT[status] || status);
}

/** A file name for a saved download: "<job>-video.mp4" style. */
function savedName(job, name) {
  const ext = { video: ".mp4", thumbnail: ".jpg", manifest: ".json" }[name];
  if (ext) return `${job.id}-${name}${ext}`;
  return `${job.id}-${name}`;
}

/** "1:05.3": minutes and seconds, for times in a source. */
function clock(seconds) {
  const s = Math.max(0, seconds);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
}

/** When a signed link stops opening its file (Unix seconds), from its token; null if none. */
function linkExpiry(url) {
  const token = new URL(url, location.href).searchParams.get("token");
  return token ? Number(token.split(".")[0]) : null;
}

/**
 * A download link. A signed link (the job's links.signed) is followed by the browser itself,
 * streaming to disk; one about to expire is refreshed first. Without signed links (an older
 * server), a key means fetching with the Authorization header, then saving.
 */
function downloadLink(job, name, links, label = name) {
  const signed = links.signed(name);
  const link = h("a.download", { href: signed || links.plain(name), download: savedName(job, name), dataset: { name },
    "aria-label": label === name ? null : `Download ${name}` }, label);
  link.addEventListener("click", async (event) => {
    const current = link.getAttribute("href");
    const expiry = linkExpiry(current);
    if (expiry !== null) {
      if (expiry - Date.now() / 1000 > 20) return; // the browser follows the signed link
      event.preventDefault();
      await links.refresh();
      link.click();
      return;
    }
    if (!getKey()) return; // open mode: the browser fetches the link itself
    event.preventDefault();
    download(current, savedName(job, name)).catch((error) => announce(`Download failed: ${error.message}`, "error"));
  });
  return link;
}

export async function renderJob(main, jobId) {
  let job = await api("GET", `/api/jobs/${encodeURIComponent(jobId)}`);
  let stop = null;
  let lastFetch = 0;

  const bar = h("progress#job-progress", { max: 100, value: job.progress, "aria-labelledby": "progress-label" });
  const percent = h("span#progress-percent", {});
  const stage = h("span#job-stage", {});
  const eta = h("span#job-eta", {});
  const status = h("span#job-status", {});
  const errorBox = h("div.form-error#job-error", { role: "alert", hidden: true });
  const actions = h("div.actions");
  const result = h("section#job-result", { "aria-labelledby": "result-heading", hidden: true });
  const times = h("p.small.meta#job-times");

  replace(main,
    h("h1", { tabindex: -1 }, `${job.kind.charAt(0).toUpperCase()}${job.kind.slice(1)} job `, h("code", {}, job.id)),
    h("section.card.progress-card", { "aria-labelledby": "progress-label" },
      h("h2#progress-label", {}, "Progress"),
      h("div.progress-line", {}, bar, percent),
      h("p.stage-line", {}, status, " ", stage, " ", eta),
      times, errorBox, actions),
    result);

  function draw() {
    bar.value = job.progress;
    percent.textContent = `${Math.round(job.progress)} %`;
    replace(status, statusBadge(job.status));
    stage.textContent = job.stage && !FINAL.has(job.status) ? `· ${job.stage}` : "";
    eta.textContent = job.eta_s && !FINAL.has(job.status) ? `· about ${formatSeconds(job.eta_s)} left` : "";
    times.textContent = [
      job.created_at ? `submitted ${formatTime(job.created_at)}` : "",
      job.finished_at ? `finished ${formatTime(job.finished_at)}` : "",
      job.cached_from ? `reused the result of job ${job.cached_from}` : "",
      `attempt ${job.attempts} of ${job.max_attempts}`,
    ].filter(Boolean).join(" · ");
    if (job.error) {
      replace(errorBox, h("strong", {}, "Error: "), job.error, job.hint ? h("span.hint", {}, ` Hint: ${job.hint}`) : null);
      errorBox.hidden = false;
    } else {
      errorBox.hidden = true;
    }
    drawActions();
  }

  function drawActions() {
    const buttons = [];
    if (!FINAL.has(job.status)) {
      buttons.push(h("button.secondary#cancel", { type: "button", onclick: cancel }, "Cancel"));
    }
    if (job.status === "failed" || job.status === "cancelled") {
      buttons.push(h("button.primary#retry", { type: "button", onclick: retry }, "Retry"));
    }
    const asked = recall(job.id);
    if (asked) {
      const target = asked.kind === "video" ? `#/video?variant=${job.id}` : `#/kind/${asked.route || job.kind}?variant=${job.id}`;
      buttons.push(h("a.button.secondary#variant", { href: target }, "Make a variant"));
    }
    buttons.push(h("button.danger#delete", { type: "button", onclick: remove }, "Delete"));
    replace(actions, buttons);
  }

  async function refresh() {
    job = await api("GET", `/api/jobs/${encodeURIComponent(job.id)}`);
    lastFetch = Date.now();
    draw();
  }

  async function cancel() {
    try {
      job = await api("POST", `/api/jobs/${encodeURIComponent(job.id)}/cancel`);
      announce("Job cancelled.");
      draw();
    } catch (error) {
      announce(`Cannot cancel: ${error.message}`, "error");
      await refresh();
    }
  }

  async function retry() {
    try {
      job = await api("POST", `/api/jobs/${encodeURIComponent(job.id)}/retry`);
      announce("Job queued again.");
      result.hidden = true;
      draw();
      follow();
    } catch (error) {
      announce(`Cannot retry: ${error.message}`, "error");
    }
  }

  async function remove() {
    if (!window.confirm(`Delete job ${job.id} and its files?`)) return;
    try {
      await api("DELETE", `/api/jobs/${encodeURIComponent(job.id)}`);
      announce("Job deleted.");
      location.hash = "#/history";
    } catch (error) {
      announce(`Cannot delete: ${error.message}`, "error");
    }
  }

  function follow() {
    if (stop) stop();
    stop = followEvents(job.links.events, (name, data) => {
      if (name === "progress") {
        if (typeof data.progress === "number") job.progress = data.progress;
        if (data.status) job.status = data.status;
        if (data.stage || data.message) job.stage = [data.stage, data.message].filter(Boolean).join(": ");
        draw();
        if (Date.now() - lastFetch > 2000) {
          lastFetch = Date.now();
          api("GET", `/api/jobs/${encodeURIComponent(job.id)}`).then((fresh) => {
            if (!FINAL.has(job.status)) {
              job.eta_s = fresh.eta_s;
              draw();
            }
          }).catch(() => {});
        }
      } else if (name === "end") {
        job = data;
        draw();
        announce(`The job is ${job.status}.`);
        if (job.status === "completed") showResult();
      } else if (name === "error") {
        replace(errorBox, data.detail || "the event stream failed", data.hint ? ` Hint: ${data.hint}` : "");
        errorBox.hidden = false;
      }
    });
  }

  // The result's links: signed ones (no key in any URL; a <video> or <a download> streams them)
  // when the server gives them, else the plain API links (fetched whole with the key).
  const links = {
    signed: (name) => job.links.signed?.[name] || null,
    plain: (name) => (job.links.files || {})[name],
    url: async (name) => links.signed(name) || fileUrl(links.plain(name)),
    /** Fetch the job again for fresh signed links, and put them on the page. */
    async refresh() {
      job = await api("GET", `/api/jobs/${encodeURIComponent(job.id)}`);
      for (const link of result.querySelectorAll("a.download[data-name]")) {
        const fresh = links.signed(link.dataset.name);
        if (fresh) link.href = fresh;
      }
    },
  };

  async function showResult() {
    const files = job.links.files || {};
    result.hidden = false;
    replace(result, h("h2#result-heading", {}, "Result"), h("p.loading", {}, "Loading the result…"));
    const parts = [h("h2#result-heading", {}, "Result")];
    if (files.video) {
      const player = h("video#player", { controls: true, preload: "metadata", playsinline: true });
      player.src = await links.url("video");
      if (files.thumbnail) player.poster = await links.url("thumbnail");
      if (files["captions.vtt"]) {
        // Shown at once only when the picture does not carry them already (the manifest's
        // timeline says whether they were burned in): the same words would show twice.
        const burned = (await manifest())?.timeline?.burn_captions !== false;
        player.append(h("track", { kind: "captions", label: "Captions", default: !burned, src: await links.url("captions.vtt") }));
      }
      // The caption translations, one subtitle track each, chosen in the player's menu.
      for (const code of translations(files)) {
        player.append(h("track", { kind: "subtitles", srclang: code, label: languageName(code), src: await links.url(`captions.${code}.vtt`) }));
      }
      // A signed link expires after a few minutes: a player that seeks later gets a 403, so
      // it resumes where it was with a fresh link.
      player.addEventListener("error", async () => {
        if (!links.signed("video") || player.dataset.renewed === String(job.links.signed.video)) return;
        const at = player.currentTime;
        const wasPlaying = !player.paused;
        try {
          await links.refresh();
        } catch {
          return;
        }
        player.dataset.renewed = job.links.signed.video;
        player.src = job.links.signed.video;
        player.currentTime = at;
        if (wasPlaying) player.play().catch(() => {});
      });
      parts.push(h("div.player", {}, player));
    } else {
      const ranked = await rankedResults(files);
      parts.push(ranked ? rankedGrid(ranked, files) : await outputGrid(files));
    }
    if (files.thumbnail) {
      parts.push(h("figure.thumb", {}, h("img#thumbnail", { src: await links.url("thumbnail"), alt: "The video's thumbnail", width: 320 }),
        h("figcaption.small", {}, "Thumbnail")));
    }
    parts.push(h("h3", {}, "Downloads"),
      h("ul.downloads#downloads", {}, Object.keys(files).filter((name) => !translated(name))
        .map((name) => h("li", {}, downloadLink(job, name, links)))));
    const languages = translations(files);
    if (languages.length) {
      // Each language's SubRip and WebVTT side by side, under the language's name.
      parts.push(h("h3", {}, "Translated captions"), h("ul.translated#translated-downloads", {}, languages.map((code) => h("li", { dataset: { code } },
        h("span.language", {}, languageName(code)),
        h("ul.downloads", {}, ["srt", "vtt"].filter((format) => files[`captions.${code}.${format}`])
          .map((format) => h("li", {}, downloadLink(job, `captions.${code}.${format}`, links, `.${format}`))))))));
    }
    replace(result, ...parts);
  }

  const typeOf = (name) => (job.links.types || {})[name] || "";

  async function preview(name, alt) {
    const type = typeOf(name);
    if (type.startsWith("image/")) return h("img", { src: await links.url(name), alt, loading: "lazy" });
    if (type.startsWith("video/")) return h("video", { src: await links.url(name), controls: true, preload: "metadata", playsinline: true });
    if (type.startsWith("audio/")) return h("audio", { src: await links.url(name), controls: true });
    if (type.startsWith("text/")) {
      try {
        const text = await (await fetch(await links.url(name))).text();
        return h("pre.text-output", { dir: "auto" }, text.length > 600 ? `${text.slice(0, 600)}…` : text);
      } catch {
        return null; // a plain download then
      }
    }
    return null;
  }

  async function outputGrid(files) {
    const cards = [];
    for (const name of Object.keys(files)) {
      const type = typeOf(name);
      cards.push(h("li.output", {}, await preview(name, name), h("span.small", {}, `${name}${type ? ` · ${type.split(";")[0]}` : ""}`)));
    }
    return h("ol.grid#outputs", {}, cards);
  }

  /** The job's JSON manifest, or null (none, not JSON, or unreadable). */
  async function manifest() {
    if (!(job.links.files || {}).manifest || !typeOf("manifest").includes("json")) return null;
    try {
      return await (await fetch(await links.url("manifest"))).json();
    } catch {
      return null;
    }
  }

  /**
   * Ranked results, when the job's JSON manifest lists items with a rank or a score (the clips
   * kind's clips.json does): the items best first, each with the outputs numbered like it
   * ("clip_2", "clip_2_thumbnail", "clip_2_captions.vtt"). Null when there is no such list.
   */
  async function rankedResults(files) {
    const doc = await manifest();
    const ranked = (list) => Array.isArray(list) && list.length > 0
      && list.every((item) => item && typeof item === "object" && (Number.isFinite(item.rank) || Number.isFinite(item.score)));
    const list = ranked(doc) ? doc : Object.values(doc || {}).find(ranked);
    if (!list) return null;
    const items = [...list].sort((a, b) => (Number.isFinite(a.rank) && Number.isFinite(b.rank)
      ? a.rank - b.rank : (b.score ?? 0) - (a.score ?? 0)));
    return items.map((item, index) => {
      const rank = Number.isFinite(item.rank) ? item.rank : index + 1;
      const own = new RegExp(`^[a-z][a-z0-9]*[-_]${rank}(?=$|[-_.])`, "u"); // clip_2, clip_2_thumbnail
      const outputs = Object.keys(files).filter((name) => own.test(name));
      return { item, rank, outputs };
    });
  }

  function rankedGrid(ranked, files) {
    const cards = ranked.map(({ item, rank, outputs }) => {
      // Inside its card an output is named without its number: "thumbnail", "captions.srt".
      const prefix = new RegExp(`^[a-z][a-z0-9]*[-_]${rank}[-_]?`, "u");
      const first = (prefix) => outputs.find((name) => typeOf(name).startsWith(prefix));
      const video = first("video/");
      const image = first("image/");
      const vtt = outputs.find((name) => typeOf(name).startsWith("text/vtt"));
      const media = h("div.ranked-media");
      (async () => {
        if (video) {
          const player = h("video", { controls: true, preload: "metadata", playsinline: true, src: await links.url(video) });
          if (image) player.poster = await links.url(image);
          // Not shown by default: clips usually carry their captions burned in already.
          if (vtt) player.append(h("track", { kind: "captions", label: "Captions", src: await links.url(vtt) }));
          media.append(player);
        } else if (image) {
          media.append(h("img", { src: await links.url(image), alt: `Result ${rank}` }));
        }
      })().catch(() => {});
      const score = Number(item.score);
      const times = Number.isFinite(item.start) && Number.isFinite(item.end)
        ? `${clock(item.start)} – ${clock(item.end)} in the source (${(item.end - item.start).toFixed(1)} s)` : "";
      const text = typeof item.text === "string" ? item.text : "";
      return h("li.ranked-item", { dataset: { rank: String(rank) } },
        h("div.ranked-head", {},
          h("span.rank", { "aria-label": `Rank ${rank}` }, `#${rank}`),
          h("strong.ranked-title", { dir: "auto" }, item.title || `Result ${rank}`)),
        Number.isFinite(score) ? h("div.score", {},
          score >= 0 && score <= 100 ? h("meter", { min: 0, max: score <= 1 ? 1 : 100, value: score, "aria-label": "Score" }) : null,
          h("span.small", {}, `score ${score <= 1 ? score.toFixed(2) : score.toFixed(1)}${score > 1 && score <= 100 ? " / 100" : ""}`)) : null,
        media,
        times ? h("p.small.meta", {}, times) : null,
        Array.isArray(item.reasons) && item.reasons.length
          ? h("ul.reasons", { "aria-label": "Why it ranks here" }, item.reasons.map((r) => h("li", {}, String(r)))) : null,
        text ? h("p.excerpt", { dir: "auto" }, text.length > 240 ? `${text.slice(0, 240)}…` : text) : null,
        h("ul.downloads", {}, outputs.map((name) => h("li", {},
          downloadLink(job, name, links, name.replace(prefix, "") || typeOf(name).split("/")[0] || name)))));
    });
    const grouped = new Set(ranked.flatMap((r) => r.outputs));
    const rest = Object.keys(files).filter((name) => !grouped.has(name));
    return h("div", {}, h("ol.grid.ranked#outputs", { "aria-label": "Results, best first" }, cards),
      rest.length ? h("p.small.meta", {}, `Also: ${rest.join(", ")} (below).`) : null);
  }

  draw();
  if (FINAL.has(job.status)) {
    if (job.status === "completed") await showResult();
  } else {
    follow();
  }
  return () => stop && stop();
}

/** The language code of a caption translation's download ("captions.fr.srt" -> "fr"), or null. */
function translated(name) {
  return /^captions\.([a-z]{2,3})\.(srt|vtt)$/u.exec(name)?.[1] || null;
}

/** The languages a job's captions were translated into, in the order of its downloads. */
function translations(files) {
  return Object.keys(files).filter((name) => name.endsWith(".vtt")).map(translated).filter(Boolean);
}

/** A language's name in the page's language ("fr" -> "French"), or its code. */
function languageName(code) {
  try {
    return new Intl.DisplayNames([navigator.language || "en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}
