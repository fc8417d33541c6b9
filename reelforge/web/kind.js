// A page for a job kind that has no page of its own: its form is built from the request schema
// of its submit route in the OpenAPI document; errors show beside their fields.

import { api, openapi } from "./api.js";
import { h, replace } from "./dom.js";
import { clearErrors, schemaFields, showProblem } from "./forms.js";
import { recall, remember } from "./requests.js";

let choicesPromise = null;
/** What pickers offer, by field name: the voices and the built-in cast (fetched once). */
function choices() {
  const listed = (path) => api("GET", path).catch(() => []);
  choicesPromise ??= Promise.all([listed("/api/voices"), listed("/api/characters")]).then(([voices, cast]) => ({
    voice: voices.map((v) => ({ value: v.id, label: `${v.id}: ${v.description}`, group: v.language }))
      .sort((a, b) => a.group.localeCompare(b.group)),
    character: cast.map((c) => ({ value: c.name, label: `${c.display_name}: ${c.description}` })),
  }));
  return choicesPromise;
}

export async function renderKind(main, kind, { variant = null } = {}) {
  const doc = await openapi();
  const general = h("p.form-error", { role: "alert", tabindex: -1, hidden: true });
  const fields = h("div.fields");
  const submit = h("button.primary", { type: "submit" }, "Submit");
  const form = h("form.card#kind-form", { novalidate: true }, fields, h("div.submit-bar", {}, general, submit));
  const { read, fill } = schemaFields(fields, kind.schema, doc, await choices());
  const previous = variant ? recall(variant) : null;
  if (previous?.body) fill(previous.body);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const body = read();
      const accepted = await api("POST", kind.path, { json: body });
      remember(accepted.id, { kind: kind.name, route: kind.name, path: kind.path, body });
      location.hash = `#/job/${accepted.id}`;
    } catch (error) {
      showProblem(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  const title = kind.name.charAt(0).toUpperCase() + kind.name.slice(1);
  replace(main, h("h1", { tabindex: -1 }, previous ? `${title}: a variant` : title),
    kind.summary ? h("p.help", {}, kind.summary) : null,
    previous ? h("p.help#variant-of", {}, `Same inputs as job ${variant}; change what you like.`) : null, form);
  return null;
}
