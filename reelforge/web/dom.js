// Small DOM helpers: elements are built with textContent, never innerHTML, so no text from the
// API (job errors, file names, template descriptions) can ever become markup.

/** h("div.card#id", {attrs}, ...children): an element; children may be strings or nodes. */
export function h(spec, attrs = {}, ...children) {
  if (attrs instanceof Node || typeof attrs !== "object" || Array.isArray(attrs)) {
    children.unshift(attrs); // h("p", "text") and h("div", node) need no empty attributes
    attrs = {};
  }
  const [tagAndClasses, id] = spec.split("#");
  const [tag, ...classes] = tagAndClasses.split(".");
  const el = document.createElement(tag || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "style" && typeof value === "object") {
      Object.assign(el.style, value); // CSSOM: allowed by the page's style-src 'self'
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uniqueCounter = 0;
/** An id no other element of the page has. */
export function uniqueId(prefix = "f") {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** "12 s", "3 min 05 s". */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, "0")} s`;
}

/** A local date and time from an ISO string. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Announce a message to screen readers and show it in the status bar. */
export function announce(message, kind = "info") {
  const bar = document.getElementById("toast");
  if (!bar) return;
  bar.dataset.kind = kind;
  bar.textContent = message;
  bar.hidden = !message;
  clearTimeout(announce.timer);
  if (message) announce.timer = setTimeout(() => { bar.hidden = true; }, 6000);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
