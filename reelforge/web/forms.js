// Form fields with their error line, problem+json errors placed beside the field they name, and
// a form built from a request schema of the OpenAPI document (for job kinds without a page).

import { ApiError, uploadMedia } from "./api.js";
import { h, replace, uniqueId } from "./dom.js";

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

function showAt(form, fieldName, message) {
  const wrap = form.querySelector(`[data-field="${CSS.escape(fieldName)}"]`);
  if (!wrap) return false;
  const error = wrap.querySelector(".field-error");
  error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  error.hidden = false;
  wrap.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  return true;
}

/**
 * Show an API error in ``form``: each named field's message beside it, the rest (and the hint)
 * at the top. ``fieldFor(path)`` maps an error's field path to a field name of the form.
 */
export function showProblem(form, error, fieldFor = (path) => path.split(".")[0]) {
  clearErrors(form);
  const problem = error instanceof ApiError ? error.problem : { detail: String(error) };
  const unplaced = [];
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  for (const item of errors) {
    if (!showAt(form, fieldFor(item.field || ""), item.message)) {
      unplaced.push(`${item.field}: ${item.message}`);
    }
  }
  // A storyboard problem lists "  - field.path: message" lines in its detail.
  let placedFromDetail = false;
  if (!errors.length && problem.detail) {
    for (const line of problem.detail.split("\n")) {
      const item = /^\s*-\s*([\w.]+):\s*(.+)$/u.exec(line);
      if (item && showAt(form, fieldFor(item[1]), item[2])) placedFromDetail = true;
    }
    if (!placedFromDetail) {
      const named = fieldFor(`(detail)${problem.detail}`);
      if (named && showAt(form, named, problem.detail)) placedFromDetail = true;
    }
  }
  const general = form.querySelector(".form-error");
  const summary = errors.length || placedFromDetail ? unplaced : [problem.detail || error.message];
  const text = [...summary, problem.hint ? `Hint: ${problem.hint}` : ""].filter(Boolean).join(" ");
  if (general) {
    general.textContent = text || problem.title || "";
    general.hidden = !general.textContent;
  }
  const first = form.querySelector("[aria-invalid=true]");
  (first || general)?.focus?.();
}

// --- a form from a JSON schema --------------------------------------------------------------

function resolve(schema, doc) {
  let current = schema || {};
  for (let depth = 0; current.$ref && depth < 20; depth += 1) {
    const path = current.$ref.replace(/^#\//u, "").split("/");
    current = path.reduce((node, key) => node?.[key], doc) || {};
  }
  return current;
}

/** The schema of a field without its "or null" branch, and whether null was allowed. */
function nonNull(schema, doc) {
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
function takesMediaList(schema, doc) {
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

/**
 * Build the fields of ``schema`` (an object schema, $refs into ``doc``) inside ``container``;
 * returns read(): the request body from the fields, leaving out empty optional ones.
 */
export function schemaFields(container, schema, doc) {
  const object = resolve(schema, doc);
  const required = new Set(object.required || []);
  const readers = [];
  for (const [name, raw] of Object.entries(object.properties || {})) {
    const { schema: prop } = nonNull(raw, doc);
    const label = humanise(prop.title ? prop.title.toLowerCase() : name) + (required.has(name) ? " (required)" : "");
    const help = prop.description || "";
    let control;
    let read;
    let extra = null;
    const enumValues = prop.enum || (prop.const !== undefined ? [prop.const] : null);
    if (takesMediaList(prop, doc)) {
      ({ control, read, extra } = mediaList(name, required.has(name)));
    } else if (enumValues) {
      control = h("select", { name },
        required.has(name) ? null : h("option", { value: "" }, "(default)"),
        enumValues.map((v) => h("option", { value: String(v), selected: prop.default === v }, String(v))));
      read = () => (control.value === "" ? undefined : enumValues.find((v) => String(v) === control.value));
    } else if (prop.type === "boolean") {
      control = h("input", { type: "checkbox", name, checked: Boolean(prop.default) });
      read = () => control.checked;
    } else if (prop.type === "integer" || prop.type === "number") {
      const min = prop.minimum ?? prop.exclusiveMinimum;
      control = h("input", {
        type: "number", name, inputmode: prop.type === "integer" ? "numeric" : "decimal",
        step: prop.type === "integer" ? "1" : "any",
        min: min ?? undefined, max: prop.maximum ?? prop.exclusiveMaximum ?? undefined,
        value: prop.default ?? undefined, required: required.has(name),
      });
      read = () => (control.value === "" ? undefined : Number(control.value));
    } else if (prop.type === "string") {
      const long = (prop.maxLength || 0) > 300;
      control = long
        ? h("textarea", { name, rows: 5, dir: "auto", maxlength: prop.maxLength, required: required.has(name) })
        : h("input", { type: "text", name, dir: "auto", maxlength: prop.maxLength ?? undefined,
          value: prop.default ?? undefined, required: required.has(name) });
      read = () => (control.value === "" ? undefined : control.value);
    } else {
      // Objects, arrays and unions: JSON text.
      control = h("textarea.code", { name, rows: 4, spellcheck: "false",
        placeholder: prop.type === "array" ? "[ ... ] (JSON)" : "{ ... } (JSON)" });
      read = () => {
        if (!control.value.trim()) return undefined;
        try {
          return JSON.parse(control.value);
        } catch {
          throw new ApiError(422, { errors: [{ field: name, message: "not valid JSON" }], detail: `${name}: not valid JSON` });
        }
      };
    }
    const built = field(name, label, control, help);
    if (prop.type === "string" && takesMedia(prop)) built.wrap.append(mediaButton(control));
    if (extra) built.wrap.append(extra);
    if (control.matches("textarea.code") && holdsMedia(prop, doc)) {
      built.wrap.append(mediaButton(control, { insert: quoted(control), label: "Upload a file (its media:<id> goes at the cursor)…" }));
    }
    container.append(built.wrap);
    readers.push([name, read]);
  }
  return () => {
    const body = {};
    for (const [name, read] of readers) {
      const value = read();
      if (value !== undefined) body[name] = value;
    }
    return body;
  };
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
