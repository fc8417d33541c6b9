// The studio's entry: sign-in, the navigation (Video, one page per other job kind found in the
// OpenAPI document, History) and the hash router.

import { api, ApiError, authState, clearKey, getKey, openapi, releaseFiles, setKey } from "./api.js";
import { announce, h, replace } from "./dom.js";
import { submitRoutes } from "./forms.js";
import { renderHistory } from "./history.js";
import { renderJob } from "./job.js";
import { renderKind } from "./kind.js";
import { renderVideo } from "./video.js";

const main = document.getElementById("main");
let state = "unknown"; // "open", "key" or "signin"
let kinds = [];
let leave = null; // the current page's clean-up (stops event streams)

function route() {
  const hash = location.hash.replace(/^#\/?/u, "") || "video";
  const [path, query = ""] = hash.split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query) };
}

async function show() {
  if (leave) leave();
  leave = null;
  releaseFiles();
  const { parts, params } = route();
  markCurrent();
  if (state === "signin" && parts[0] !== "signin") {
    renderSignIn();
    return;
  }
  const page = parts[0];
  try {
    if (page === "video") leave = await renderVideo(main, { variant: params.get("variant") });
    else if (page === "job" && parts[1]) leave = await renderJob(main, decodeURIComponent(parts[1]));
    else if (page === "history") leave = await renderHistory(main, { kinds, params });
    else if (page === "kind" && parts[1]) {
      const kind = kinds.find((k) => k.name === parts[1]);
      if (kind) leave = await renderKind(main, kind, { variant: params.get("variant") });
      else notFound();
    } else if (page === "signin") renderSignIn();
    else notFound();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      state = "signin";
      renderAccount();
      renderSignIn(error.problem.detail);
      return;
    }
    replace(main, h("h1", {}, "Something went wrong"),
      h("p.form-error", { role: "alert" }, error.message || String(error)),
      error.problem?.hint ? h("p.help", {}, error.problem.hint) : null);
  }
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus?.();
}

function notFound() {
  replace(main, h("h1", { tabindex: -1 }, "Page not found"), h("p", {}, h("a", { href: "#/video" }, "Make a video")));
}

function markCurrent() {
  const current = `#/${route().parts.slice(0, 2).join("/")}`;
  for (const link of document.querySelectorAll("#nav a")) {
    const here = current === link.getAttribute("href") || (current === "#/" && link.getAttribute("href") === "#/video");
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function renderAccount() {
  const box = document.getElementById("account");
  if (state === "open") {
    replace(box, h("span.badge", { title: "reelforge serve --open: no API key needed" }, "Open mode"));
  } else if (state === "key") {
    const key = getKey();
    replace(box,
      h("span.badge", { title: "signed in with an API key" }, `Key ${key.slice(0, 7)}…`),
      h("button.link", { type: "button", onclick: signOut }, "Sign out"));
  } else {
    replace(box, h("a", { href: "#/signin" }, "Sign in"));
  }
}

function signOut() {
  clearKey();
  state = "signin";
  renderAccount();
  announce("Signed out: the API key was removed from this browser.");
  location.hash = "#/signin";
  show();
}

function renderSignIn(reason = "") {
  const input = h("input#api-key", { type: "password", name: "key", autocomplete: "current-password",
    required: true, spellcheck: "false", placeholder: "rf_…", "aria-describedby": "key-help key-error" });
  const error = h("p.field-error#key-error", { role: "alert", hidden: !reason }, reason);
  const form = h("form.card.narrow", {
    onsubmit: async (event) => {
      event.preventDefault();
      setKey(input.value);
      try {
        state = await authState();
      } catch (failure) {
        state = "signin";
        error.textContent = failure.message;
        error.hidden = false;
      }
      if (state === "signin") {
        clearKey();
        error.textContent = "That API key is unknown or revoked.";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      renderAccount();
      announce("Signed in.");
      location.hash = "#/video";
      show();
    },
  },
  h("h1", { tabindex: -1 }, "Sign in"),
  h("div.field", {}, h("label", { for: "api-key" }, "API key"), input,
    h("p.help#key-help", {}, "Create one on the server with `reelforge keys create NAME`. It is kept in this browser's storage only, and sent as an Authorization header."),
    error),
  h("button.primary", { type: "submit" }, "Sign in"));
  replace(main, form);
  input.focus();
}

async function start() {
  try {
    state = await authState();
  } catch (error) {
    replace(main, h("h1", {}, "The server did not answer"), h("p", {}, error.message));
    return;
  }
  renderAccount();
  try {
    const doc = await openapi();
    kinds = submitRoutes(doc).filter((r) => r.path !== "/api/videos");
    const nav = document.getElementById("nav");
    const history = nav.lastElementChild;
    for (const kind of kinds) {
      nav.insertBefore(h("li", {}, h("a", { href: `#/kind/${kind.name}` }, kind.name.charAt(0).toUpperCase() + kind.name.slice(1))), history);
    }
  } catch {
    kinds = [];
  }
  window.addEventListener("hashchange", show);
  await show();
  document.body.dataset.ready = "true";
}

export { api };
start();
