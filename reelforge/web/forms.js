// Form fields with their error line, problem+json errors placed beside the field they name, and
// a form built from a request schema of the OpenAPI document (for job kinds without a page).

import { ApiError, uploadMedia } from "./api.js";
import { h, replace, uniqueId } from "./dom.js";
import { objectRows } from "./rows.js";

/** A labelled field: { wrap, control, error }; the error line is announced with the control. */
export function field(name, label, control, help = "") {
  const id = control.id || uniqueId(name);
  control.id = id;
  control.name ||= name;
  const errorId = `${id}-error`;
  const helpId = help ? `${id}-help` : null;
  control.setAttribute("aria-describedby", [helpId, errorId].filter(Boolean).join(" "));
  const error = h("p.field-error", { id: errorId, role: "alert", hidden: true });
  const isCheck = control.type === "checkbox";
  const wrap = h(
    `div.field${isCheck ? ".check" : ""}`,
    { dataset: { field: name } },
    isCheck ? [control, h("label", { for: id }, label)] : [h("label", { for: id }, label), control],
    help ? h("p.help", { id: helpId }, help) : null,
    error,
  );
  return { wrap, control, error };
}

/** Remove every error shown in ``form``. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const general = form.querySelector(".form-error");
  if (general) general.hidden = true;
}

/** The wrap of field ``path`` ("speakers.1.portrait.0"), or of its nearest named parent. */
function wrapFor(form, path) {
  const parts = path.split(".");
  for (let size = parts.length; size > 0; size -= 1) {
    const wrap = form.querySelector(`[data-field="${CSS.escape(parts.slice(0, size).join("."))}"]`);
    if (wrap) return wrap;
  }
  return null;
}

function showAt(form, fieldName, message) {
  const wrap = fieldName ? wrapFor(form, fieldName) : null;
  const error = wrap?.querySelector(":scope > .field-error");
  if (!error) return false;
  error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  error.hidden = false;
  wrap.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  return true;
}

/**
 * The field problems of a problem+json body: its ``errors``, or those its detail names, as
 * "  - field.path: message" lines (a storyboard) or "a.b: message; c.d: message" (uploads).
 */
function problemItems(problem) {
  if (Array.isArray(problem.errors) && problem.errors.length) return problem.errors;
  const detail = problem.detail || "";
  const lines = detail.split("\n").map((line) => /^\s*-\s*([\w.]+):\s*(.+)$/u.exec(line));
  const parts = detail.split(/;\s+(?=[A-Za-z_][\w.]*:\s)/u).map((part) => /^([A-Za-z_][\w.]*):\s*(.+)$/su.exec(part));
  const found = lines.some(Boolean) ? lines.filter(Boolean) : parts.every(Boolean) ? parts : [];
  return found.map(([, field, message]) => ({ field, message }));
}

/**
 * Show an API error in ``form``: each named field's message beside it (a nested field's beside
 * the nearest field of the form), the rest (and the hint) at the top. ``fieldFor(path)`` maps
 * an error's field path to a field name of the form.
 */
export function showProblem(form, error, fieldFor = (path) => path) {
  clearErrors(form);
  const problem = error instanceof ApiError ? error.problem : { detail: String(error) };
  const items = problemItems(problem);
  let unplaced = items.filter((item) => !showAt(form, fieldFor(item.field || ""), item.message))
    .map((item) => `${item.field}: ${item.message}`);
  let placed = items.length > unplaced.length;
  if (!placed && !problem.errors?.length && problem.detail) {
    placed = showAt(form, fieldFor(`(detail)${problem.detail}`), problem.detail);
    if (placed) unplaced = [];
  }
  const general = form.querySelector(".form-error");
  const summary = placed || unplaced.length ? unplaced : [problem.detail || error.message];
  const text = [...summary, problem.hint ? `Hint: ${problem.hint}` : ""].filter(Boolean).join(" ");
  if (general) {
    general.textContent = text || problem.title || "";
    general.hidden = !general.textContent;
  }
  const first = form.querySelector("[aria-invalid=true]");
  (first || general)?.focus?.();
}

// --- a form from a JSON schema --------------------------------------------------------------

export function resolve(schema, doc) {
  let current = schema || {};
  for (let depth = 0; current.$ref && depth < 20; depth += 1) {
    const path = current.$ref.replace(/^#\//u, "").split("/");
    current = path.reduce((node, key) => node?.[key], doc) || {};
  }
  return current;
}

/** The schema of a field without its "or null" branch, and whether null was allowed. */
export function nonNull(schema, doc) {
  const resolved = resolve(schema, doc);
  const options = resolved.anyOf || resolved.oneOf;
  if (!options) return { schema: resolved, nullable: false };
  const rest = options.filter((o) => resolve(o, doc).type !== "null");
  if (rest.length === 1) {
    return { schema: { ...resolve(rest[0], doc), ...pick(resolved) }, nullable: rest.length < options.length };
  }
  return { schema: resolved, nullable: rest.length < options.length };
}

function pick(schema) {
  const out = {};
  for (const key of ["title", "description", "default"]) if (key in schema) out[key] = schema[key];
  return out;
}

function humanise(name) {
  const text = name.replace(/_/gu, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Fields named like an upload: media:<id> in their description. */
function takesMedia(schema) {
  return /media:<id>|media:/u.test(schema.description || "");
}

/** One upload or a list of them (``portrait``: one picture or several of the same character). */
export function takesMediaList(schema, doc) {
  const options = (schema.anyOf || schema.oneOf || []).map((o) => resolve(o, doc));
  return takesMedia(schema) && options.some((o) => o.type === "string")
    && options.some((o) => o.type === "array" && resolve(o.items, doc).type === "string");
}

/** A JSON field (an object or a list of them) with a property that takes uploads. */
function holdsMedia(schema, doc) {
  const inner = resolve(schema.type === "array" ? schema.items : schema, doc);
  return Object.values(inner.properties || {}).some((p) => takesMedia(resolve(p, doc)));
}

/**
 * A field taking one media:<id> or several, in order: a text box of references (comma
 * separated, editable) above the chosen pictures, each with its thumbnail (files uploaded from
 * this page) and a Remove button; "Add pictures…" uploads several files at once.
 */
function mediaList(name, required) {
  const control = h("input", { type: "text", name, dir: "ltr", spellcheck: "false", required,
    placeholder: "media:<id>.jpg, media:<id>.png", dataset: { list: "true" } });
  const thumbnails = new Map(); // reference -> object URL of the file uploaded from this page
  const references = () => control.value.split(/[\s,]+/u).filter(Boolean);
  const picked = h("ol.picked", { "aria-label": "Chosen pictures, in the order they are used" });
  const setReferences = (list) => {
    control.value = list.join(", ");
    control.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const show = () => replace(picked, references().map((reference, index) => h("li", {},
    thumbnails.has(reference)
      ? h("img", { src: thumbnails.get(reference), alt: "", width: 56, height: 56 })
      : h("span.thumbnail-none", { "aria-hidden": "true" }, String(index + 1)),
    h("code", {}, reference),
    h("button.link", { type: "button", "aria-label": `Remove picture ${index + 1} (${reference})`,
      onclick: () => {
        setReferences(references().filter((_, k) => k !== index));
        upload.querySelector(".upload-status").textContent = `Removed ${reference}.`;
      } }, "Remove"))));
  control.addEventListener("input", show);
  const upload = mediaButton(control, {
    accept: "image/*", multiple: true, label: "Add pictures…",
    insert: (media, file) => {
      thumbnails.set(media.reference, URL.createObjectURL(file));
      control.value = [...references(), media.reference].join(", ");
    },
  });
  const read = () => {
    const list = references();
    if (!list.length) return undefined;
    return list.length === 1 ? list[0] : list;
  };
  return { control, read, extra: h("div.media-list", {}, picked, upload) };
}

function enumControl(name, prop, required) {
  const values = prop.enum || [prop.const];
  const control = h("select", { name },
    required ? null : h("option", { value: "" }, "(default)"),
    values.map((v) => h("option", { value: String(v), selected: prop.default === v }, String(v))));
  return { control, read: () => (control.value === "" ? undefined : values.find((v) => String(v) === control.value)) };
}

/** A select of a catalogue's entries ({ value, label, group }), grouped when they name groups. */
function choiceControl(name, entries) {
  const groups = new Map();
  for (const entry of entries) groups.set(entry.group || "", [...(groups.get(entry.group || "") || []), entry]);
  const options = (list) => list.map((entry) => h("option", { value: entry.value }, entry.label));
  const control = h("select", { name }, h("option", { value: "" }, "(automatic)"),
    [...groups].map(([group, list]) => (group ? h("optgroup", { label: group }, options(list)) : options(list))));
  return { control, read: () => control.value || undefined };
}

function numberControl(name, prop, required) {
  const integer = prop.type === "integer";
  const control = h("input", {
    type: "number", name, inputmode: integer ? "numeric" : "decimal", step: integer ? "1" : "any",
    min: prop.minimum ?? prop.exclusiveMinimum ?? undefined, max: prop.maximum ?? prop.exclusiveMaximum ?? undefined,
    value: prop.default ?? undefined, required,
  });
  return { control, read: () => (control.value === "" ? undefined : Number(control.value)) };
}

function textControl(name, prop, required) {
  const control = (prop.maxLength || 0) > 300
    ? h("textarea", { name, rows: 5, dir: "auto", maxlength: prop.maxLength, required })
    : h("input", { type: "text", name, dir: "auto", maxlength: prop.maxLength ?? undefined,
      value: prop.default ?? undefined, required });
  return { control, read: () => (control.value === "" ? undefined : control.value) };
}

/** Objects, arrays and unions: JSON text (with an upload button when they hold media). */
function jsonControl(name, prop, doc) {
  const control = h("textarea.code", { name, rows: 4, spellcheck: "false",
    placeholder: prop.type === "array" ? "[ ... ] (JSON)" : "{ ... } (JSON)" });
  const read = () => {
    if (!control.value.trim()) return undefined;
    try {
      return JSON.parse(control.value);
    } catch {
      throw new ApiError(422, { errors: [{ field: name, message: "not valid JSON" }], detail: `${name}: not valid JSON` });
    }
  };
  const extra = holdsMedia(prop, doc)
    ? mediaButton(control, { insert: quoted(control), label: "Upload a file (its media:<id> goes at the cursor)…" })
    : null;
  return { control, read, extra };
}

/** Put ``value`` (as a request body holds it) into a control built here. */
function writeControl(control, value) {
  if (control.type === "checkbox") control.checked = Boolean(value);
  else if (control.dataset.list) control.value = [value].flat().join(", ");
  else control.value = typeof value === "object" ? JSON.stringify(value, null, 1) : String(value ?? "");
  control.dispatchEvent(new Event("input", { bubbles: true })); // a picture list shows itself
}

/**
 * The control of property ``name`` (its schema ``prop``, null branch removed): { control, read,
 * write, extra }; ``choices``: catalogue entries for fields named like them (voice, character).
 */
export function propertyControl(name, prop, { required = false, doc, choices = {} }) {
  const key = name.split(".").pop();
  let built;
  if (takesMediaList(prop, doc)) built = mediaList(name, required);
  else if (prop.enum || prop.const !== undefined) built = enumControl(name, prop, required);
  else if (choices[key]?.length && prop.type === "string") built = choiceControl(name, choices[key]);
  else if (prop.type === "boolean") {
    const control = h("input", { type: "checkbox", name, checked: Boolean(prop.default) });
    built = { control, read: () => control.checked };
  } else if (prop.type === "integer" || prop.type === "number") built = numberControl(name, prop, required);
  else if (prop.type === "string") {
    built = textControl(name, prop, required);
    if (takesMedia(prop)) built.extra = mediaButton(built.control);
  } else if (objectRows.fits(prop, doc)) built = objectRows(name, prop, { doc, choices });
  else built = jsonControl(name, prop, doc);
  built.write ??= (value) => writeControl(built.control, value);
  return built;
}

/** A field's label from its schema: its title (or name), "(required)" when it is. */
export function fieldLabel(name, prop, required) {
  return humanise(prop.title ? prop.title.toLowerCase() : name) + (required ? " (required)" : "");
}

/**
 * Build the fields of ``schema`` (an object schema, $refs into ``doc``) inside ``container``;
 * returns { read, fill }: read() gives the request body from the fields, leaving out empty
 * optional ones; fill(body) puts an earlier body back.
 */
export function schemaFields(container, schema, doc, choices = {}) {
  const object = resolve(schema, doc);
  const required = new Set(object.required || []);
  const controls = new Map();
  for (const [name, raw] of Object.entries(object.properties || {})) {
    const { schema: prop } = nonNull(raw, doc);
    const built = propertyControl(name, prop, { required: required.has(name), doc, choices });
    const { wrap } = built.wrap
      ? built
      : field(name, fieldLabel(name, prop, required.has(name)), built.control, prop.description || "");
    if (built.extra) wrap.append(built.extra);
    container.append(wrap);
    controls.set(name, built);
  }
  const read = () => {
    const body = {};
    for (const [name, built] of controls) {
      const value = built.read();
      if (value !== undefined) body[name] = value;
    }
    return body;
  };
  const fill = (body = {}) => {
    for (const [name, built] of controls) {
      // A list of rows left out of the body was sent empty: it opens empty, not as the example.
      if (name in body || built.wrap) built.write(body[name]);
    }
  };
  return { read, fill };
}

/** Inserts an upload's reference, quoted, at the cursor of a JSON text field. */
function quoted(target) {
  return (media) => {
    const at = target.selectionEnd ?? target.value.length;
    const text = JSON.stringify(media.reference);
    target.value = target.value.slice(0, at) + text + target.value.slice(at);
    target.selectionStart = target.selectionEnd = at + text.length;
  };
}

/**
 * "Upload a file" beside a field that takes media:<id>: uploads and fills the field, or hands
 * each upload (and its file) to ``insert``; ``multiple``: several files at once.
 */
export function mediaButton(target, { accept = "image/*,video/*,audio/*", insert = null, multiple = false, label = "Upload a file…" } = {}) {
  // The button is the control people and screen readers use; the file input stays out of reach.
  const input = h("input.visually-hidden", { type: "file", accept, multiple, tabindex: -1, "aria-hidden": "true" });
  const status = h("span.upload-status", { "aria-live": "polite" });
  const button = h("button.secondary", { type: "button", onclick: () => input.click() }, label);
  input.addEventListener("change", async () => {
    for (const file of input.files) {
      status.textContent = `Uploading ${file.name}…`;
      try {
        const media = await uploadMedia(file, (share) => {
          status.textContent = `Uploading ${file.name}: ${Math.round(share * 100)} %`;
        });
        if (insert) insert(media, file);
        else target.value = media.reference;
        status.textContent = `${file.name} uploaded as ${media.reference}`;
        target.dispatchEvent(new Event("input", { bubbles: true }));
      } catch (error) {
        status.textContent = `${file.name}: ${error.message}${error.problem?.hint ? ` (${error.problem.hint})` : ""}`;
      }
    }
    input.value = "";
  });
  return h("div.upload", {}, button, input, status);
}

/**
 * The job kinds that have a submit route in the OpenAPI document: every POST without a path
 * parameter that answers 202 with the Accepted body ("video" is /api/videos). A kind that lands
 * with its route shows up here with no change to the page.
 */
export function submitRoutes(doc) {
  const routes = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const post = item.post;
    if (!post || path.includes("{") || !post.responses?.["202"]) continue;
    const content = post.requestBody?.content?.["application/json"];
    if (!content?.schema) continue;
    const name = path.replace(/\/+$/u, "").split("/").pop();
    routes.push({ name, path, summary: post.summary || "", schema: content.schema });
  }
  return routes;
}
