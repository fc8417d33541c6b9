// History: the caller's jobs, newest first, filtered by status and kind; open, cancel, retry,
// delete. The filters live in the address (#/history?status=failed&kind=video).

import { api } from "./api.js";
import { announce, formatTime, h, replace } from "./dom.js";
import { field } from "./forms.js";
import { statusBadge } from "./job.js";

const STATUSES = ["submitted", "queued", "processing", "rendering", "post_processing", "uploading", "completed", "failed", "cancelled"];
const FINAL = new Set(["completed", "failed", "cancelled"]);
const PAGE = 25;

export async function renderHistory(main, { kinds, params }) {
  const status = h("select#filter-status", { name: "status" }, h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, s.replace("_", " "))));
  const kind = h("select#filter-kind", { name: "kind" }, h("option", { value: "" }, "Any kind"),
    ["video", ...kinds.map((k) => k.name)].map((k) => h("option", { value: k, selected: params.get("kind") === k }, k)));
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const list = h("div#history-list", { "aria-live": "polite" });
  const filters = h("form.filters", { role: "search", "aria-label": "Filter jobs", onsubmit: (e) => e.preventDefault() },
    field("status", "Status", status).wrap, field("kind", "Kind", kind).wrap);
  const go = (extra = {}) => {
    const query = new URLSearchParams();
    if (status.value) query.set("status", status.value);
    if (kind.value) query.set("kind", kind.value);
    if (extra.offset) query.set("offset", String(extra.offset));
    location.hash = `#/history${query.toString() ? `?${query}` : ""}`;
  };
  status.addEventListener("change", () => go());
  kind.addEventListener("change", () => go());
  replace(main, h("h1", { tabindex: -1 }, "History"), filters, list);

  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (status.value) query.set("status", status.value);
    if (kind.value) query.set("kind", kind.value);
    const page = await api("GET", `/api/jobs?${query}`);
    if (!page.items.length) {
      replace(list, h("p.empty", {}, offset ? "No more jobs." : "No jobs yet. ", offset ? null : h("a", { href: "#/video" }, "Make a video")));
      return;
    }
    const rows = page.items.map((job) => h("tr", { dataset: { job: job.id } },
      h("td", {}, h("a", { href: `#/job/${job.id}` }, h("code", {}, job.id))),
      h("td", {}, job.kind),
      h("td", {}, statusBadge(job.status), job.status === "completed" || FINAL.has(job.status) ? null : h("span.small", {}, ` ${Math.round(job.progress)} %`)),
      h("td.small", {}, formatTime(job.created_at)),
      h("td.row-actions", {}, actions(job))));
    replace(list,
      h("div.table-wrap", {}, h("table.jobs", {},
        h("caption.visually-hidden", {}, "Your jobs, newest first"),
        h("thead", {}, h("tr", {}, ["Job", "Kind", "Status", "Submitted", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows))),
      h("p.small.meta", {}, `${offset + 1}–${offset + page.items.length} of ${page.total}`),
      h("div.pager", {},
        offset > 0 ? h("button.secondary", { type: "button", onclick: () => go({ offset: Math.max(0, offset - PAGE) }) }, "Newer") : null,
        offset + PAGE < page.total ? h("button.secondary", { type: "button", onclick: () => go({ offset: offset + PAGE }) }, "Older") : null));
  }

  function actions(job) {
    const act = (label, cls, fn) => h(`button.${cls}`, { type: "button", onclick: fn, "aria-label": `${label} job ${job.id}` }, label);
    const out = [];
    if (!FINAL.has(job.status)) out.push(act("Cancel", "secondary", () => call("POST", `/api/jobs/${job.id}/cancel`, "cancelled")));
    if (job.status === "failed" || job.status === "cancelled") out.push(act("Retry", "secondary", () => call("POST", `/api/jobs/${job.id}/retry`, "queued again")));
    out.push(act("Delete", "danger", () => {
      if (window.confirm(`Delete job ${job.id} and its files?`)) call("DELETE", `/api/jobs/${job.id}`, "deleted");
    }));
    return out;
  }

  async function call(method, path, done) {
    try {
      await api(method, path);
      announce(`Job ${done}.`);
    } catch (error) {
      announce(error.message, "error");
    }
    await load();
  }

  await load();
  const timer = setInterval(() => load().catch(() => {}), 5000);
  return () => clearInterval(timer);
}
