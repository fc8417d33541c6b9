// What the studio's accessibility tests check on a page (run by page.evaluate): every visible
// control has a name (its label, aria-label or text), and every visible text keeps a contrast of
// at least 4.5:1 with what is behind it (3:1 for large text), WCAG AA. Returns what fails.
() => {
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const name = (e) => {
    if (e.getAttribute("aria-label")) return e.getAttribute("aria-label");
    const by = e.getAttribute("aria-labelledby");
    if (by) return by.split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ");
    if (e.labels?.length) return [...e.labels].map((l) => l.textContent).join(" ");
    if (e.tagName === "BUTTON" || e.tagName === "A") return e.textContent.trim() || e.querySelector("img")?.alt || "";
    return e.title || "";
  };
  const unlabelled = [...document.querySelectorAll("input, select, textarea, button, a[href]")]
    .filter((e) => visible(e) && e.type !== "hidden" && !e.closest("[aria-hidden=true]") && !name(e).trim())
    .map((e) => e.outerHTML.slice(0, 160));

  const rgba = (colour) => {
    const parts = colour.match(/[\d.]+/gu).map(Number);
    return parts.length > 3 ? parts : [...parts, 1];
  };
  const luminance = ([r, g, b]) => {
    const linear = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const behind = (e) => {
    for (; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0.5) return colour;
    }
    return rgba(getComputedStyle(document.documentElement).backgroundColor || "rgb(255, 255, 255)");
  };
  const low = new Set();
  for (const e of document.querySelectorAll("body *")) {
    if (!visible(e) || e.closest("video, svg, [disabled]") || e.disabled) continue;
    if (![...e.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    const style = getComputedStyle(e);
    const [a, b] = [luminance(rgba(style.color)), luminance(behind(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      low.add(`${ratio.toFixed(2)}:1 ${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 40)}" (${style.color} on ${behind(e)})`);
    }
  }
  return { unlabelled, low: [...low] };
}
