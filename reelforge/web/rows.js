// A list of objects edited as rows (a podcast's speakers): one group of fields per item, each
// built like the form's own fields from the item's schema, Add and Remove buttons within the
// schema's bounds, and the schema's first example as the rows a new form opens with.

import { h, replace, uniqueId } from "./dom.js";
import { field, fieldLabel, nonNull, propertyControl, resolve, takesMediaList } from "./forms.js";

/** The item schema of a bounded list of objects whose properties each fit one control. */
function itemSchema(prop, doc) {
  if (prop.type !== "array" || !prop.maxItems) return null;
  const item = resolve(prop.items, doc);
  if (item.type !== "object" || !item.properties) return null;
  const simple = Object.values(item.properties).every((raw) => {
    const { schema } = nonNull(raw, doc);
    return ["string", "integer", "number", "boolean"].includes(schema.type) || schema.enum
      || takesMediaList(schema, doc);
  });
  return simple ? item : null;
}

/** One item's fields inside a fieldset: { wrap, cells, controls, remove, legend }. */
function buildRow(name, item, { doc, choices }) {
  const required = new Set(item.required || []);
  const cells = new Map();
  const controls = new Map();
  for (const [key, raw] of Object.entries(item.properties)) {
    const { schema } = nonNull(raw, doc);
    const built = propertyControl(`${name}.0.${key}`, schema, { required: required.has(key), doc, choices });
    const { wrap } = field(`${name}.0.${key}`, fieldLabel(key, schema, required.has(key)), built.control,
      schema.description || "");
    if (built.extra) wrap.append(built.extra);
    cells.set(key, wrap);
    controls.set(key, built);
  }
  const legend = h("legend");
  const remove = h("button.secondary.remove-row", { type: "button" });
  const wrap = h("fieldset.item-row", {}, legend, h("div.item-fields", {}, [...cells.values()]),
    h("p.field-error", { role: "alert", hidden: true }), remove);
  return { wrap, cells, controls, remove, legend };
}

function readRow(row) {
  const value = {};
  for (const [key, built] of row.controls) {
    const read = built.read();
    if (read !== undefined) value[key] = read;
  }
  return value;
}

/** Name each row's fields after its place (name.N.key), as the server's errors name them. */
function numberRows(rows, name, noun, least) {
  rows.forEach((row, index) => {
    row.wrap.dataset.field = `${name}.${index}`;
    row.legend.textContent = `${noun} ${index + 1}`;
    row.remove.textContent = `Remove ${noun.toLowerCase()} ${index + 1}`;
    row.remove.disabled = rows.length <= least;
    for (const [key, cell] of row.cells) {
      cell.dataset.field = `${name}.${index}.${key}`;
      row.controls.get(key).control.name = `${name}.${index}.${key}`;
    }
  });
}

/** Focus a row's first control. */
function focusRow(row) {
  row?.controls.values().next().value.control.focus();
}

/**
 * The rows editor of list field ``name`` (schema ``prop``): { wrap, read, write }. read() leaves
 * out empty fields and rows with nothing filled in; errors naming "name.N.key" show in row N.
 */
export function objectRows(name, prop, { doc, choices }) {
  const item = itemSchema(prop, doc);
  const noun = fieldLabel(name, prop, false).replace(/s$/u, "");
  const least = Math.max(1, prop.minItems || 0);
  const rows = [];
  const list = h("div.item-rows");
  const status = h("span.visually-hidden", { "aria-live": "polite" });
  const add = h("button.secondary", { type: "button" }, `Add a ${noun.toLowerCase()}`);
  const help = h("p.help", { id: uniqueId(`${name}-help`) },
    `${prop.description ? `${prop.description}. ` : ""}From ${least} to ${prop.maxItems}; a row left empty is not sent.`);
  const renumber = () => {
    numberRows(rows, name, noun, least);
    add.disabled = rows.length >= prop.maxItems;
    replace(list, rows.map((row) => row.wrap));
  };
  const append = (value = {}) => {
    const row = buildRow(name, item, { doc, choices });
    row.remove.addEventListener("click", () => {
      const at = rows.indexOf(row);
      rows.splice(at, 1);
      renumber();
      status.textContent = `${noun} ${at + 1} removed; ${rows.length} left.`;
      focusRow(rows[at] || rows[at - 1]);
    });
    for (const [key, part] of Object.entries(value)) row.controls.get(key)?.write(part);
    rows.push(row);
    return row;
  };
  const write = (value) => {
    rows.splice(0);
    for (const part of [value || []].flat().slice(0, prop.maxItems)) append(part);
    while (rows.length < least) append();
    renumber();
  };
  add.addEventListener("click", () => {
    const row = append();
    renumber();
    status.textContent = `${noun} ${rows.length} added.`;
    focusRow(row);
  });
  const wrap = h("fieldset.field.item-list", { dataset: { field: name }, "aria-describedby": help.id },
    h("legend", {}, fieldLabel(name, prop, false)), help, list,
    h("div.item-tools", {}, add, status), h("p.field-error", { role: "alert", hidden: true }));
  write(prop.examples?.[0]);
  const read = () => {
    const values = rows.map(readRow).filter((value) => Object.keys(value).length);
    return values.length ? values : undefined;
  };
  return { wrap, control: list, read, write };
}

objectRows.fits = (prop, doc) => itemSchema(prop, doc) !== null;
