// How a script splits into scenes, for the live preview: a port of reelforge/spec/parse.py
// (front matter, "#" title, "##" scenes or paragraphs, pictures, long scenes split at sentences,
// max_scenes merging). The server's parse stays the authority; tests compare the two.

export const MAX_SCENE_WORDS = 60;

const SENTENCE_END = /([.!?…]+|[。！？]+|[।॥]+|[؟۔]+)((?:[\u00a0\u202f ]?»|["'”’)\]」』])*)/gu;
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "e.g", "i.e", "mme", "mlle", "cf",
  "fig", "approx", "inc", "ltd",
]);
const CJK_CHAR = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;
const CJK_CHARS = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/gu;
const UNSPACED = /[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
const DEVANAGARI = /[\u0900-\u097f]/u;
const TERMINAL = [...".!?…:;,。！？，；।॥؟۔", '"', "'", "”", "’", "»", ")"];
const CLAUSE_END = /(?<=[,;:،؛、，；])\s*/u;

export function splitSentences(text) {
  const sentences = [];
  let start = 0;
  for (const match of text.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    const punct = match[1];
    if (".!?…".includes(punct[0])) {
      if (end < text.length && !/\s/u.test(text[end])) continue;
      if (punct === "." && isAbbreviation(text.slice(start, match.index))) continue;
    }
    const sentence = text.slice(start, end).trim();
    if (sentence) sentences.push(sentence);
    start = end;
  }
  const tail = text.slice(start).trim();
  if (tail) sentences.push(tail);
  return sentences;
}

function isAbbreviation(before) {
  const words = before.split(/\s+/u).filter(Boolean);
  if (!words.length) return false;
  const last = words[words.length - 1].replace(/^[("'«“]+/u, "");
  return ABBREVIATIONS.has(last.toLowerCase()) || (last.length === 1 && /\p{Lu}/u.test(last));
}

export function wordCount(text) {
  const cjk = (text.match(CJK_CHARS) || []).length;
  return text.replace(CJK_CHARS, " ").split(/\s+/u).filter(Boolean).length + Math.ceil(cjk / 3);
}

function join(parts) {
  let out = "";
  for (let part of parts) {
    part = part.trim();
    if (!part) continue;
    if (out && !(UNSPACED.test(out[out.length - 1]) && UNSPACED.test(part[0]))) out += " ";
    out += part;
  }
  return out;
}

function terminated(text) {
  if (!text || TERMINAL.some((t) => text.endsWith(t))) return text;
  if (DEVANAGARI.test(text)) return `${text}।`;
  if (CJK_CHAR.test(text[text.length - 1])) return `${text}。`;
  return `${text}.`;
}

const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/u;
const FENCE = /^ {0,3}(```|~~~)/u;
const RULE = /^ {0,3}([-*_=])(?:\s*\1){2,}\s*$/u;
const LIST_MARKER = /^\s*(?:[-*+•]|\d{1,3}[.)])\s+/u;
const QUOTE_MARKER = /^\s*(?:>\s?)+/u;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/u;
const HTML_COMMENT = /<!--[\s\S]*?-->/gu;
const IMAGE = /!\[([^\]]*)\]\(([^)]*)\)/gu;
const INLINE_RULES = [
  [/\[([^\]]+)\]\([^)]*\)/gu, "$1"],
  [/\[([^\]]+)\]\[[^\]]*\]/gu, "$1"],
  [/<(?:https?|mailto):[^>]+>/gu, ""],
  [/<\/?[A-Za-z][^>]*>/gu, " "],
  [/`+([^`]+?)`+/gu, "$1"],
  [/(\*\*|__)(.+?)\1/gu, "$2"],
  [/(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])/gu, "$1"],
  [/(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)/gu, "$1"],
  [/~~(.+?)~~/gu, "$1"],
  [/\\([\\`*_{}[\]()#+\-.!>~|])/gu, "$1"],
];
const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)/u;

function cleanInline(text) {
  for (const [pattern, replacement] of INLINE_RULES) text = text.replace(pattern, replacement);
  return text.split(/\s+/u).filter(Boolean).join(" ");
}

function imagePath(target) {
  target = target.trim();
  if (target.startsWith("<")) return target.slice(1).split(">")[0].trim();
  return target ? target.split(/\s+/u)[0] : "";
}

function paragraph(lines) {
  const pieces = [];
  const images = [];
  for (let line of lines) {
    line = line.replace(QUOTE_MARKER, "");
    const isItem = LIST_MARKER.test(line);
    line = line.replace(LIST_MARKER, "");
    for (const match of line.matchAll(IMAGE)) {
      const path = imagePath(match[2]);
      if (path) images.push(path);
    }
    const text = cleanInline(line.replace(IMAGE, " "));
    pieces.push(isItem ? terminated(text) : text);
  }
  return { narration: join(pieces), title: null, images };
}

function paragraphs(lines) {
  const drafts = [];
  let block = [];
  for (const line of [...lines, ""]) {
    if (line.trim()) block.push(line);
    else if (block.length) {
      const draft = paragraph(block);
      if (draft.narration || draft.images.length) drafts.push(draft);
      block = [];
    }
  }
  return drafts;
}

function readMarkdown(body) {
  const lines = [];
  let inFence = false;
  for (const line of body.split("\n")) {
    if (FENCE.test(line)) inFence = !inFence;
    else if (!inFence && !REFERENCE_DEFINITION.test(line)) lines.push(line);
  }
  const levels = lines.map((l) => HEADING.exec(l)).filter(Boolean).map((m) => m[1].length);
  const titleAllowed = !(levels.filter((l) => l === 1).length > 1 && Math.max(...levels) === 1);
  let title = null;
  const sections = [[null, []]];
  let hasHeadings = false;
  for (const line of lines) {
    if (RULE.test(line)) {
      sections[sections.length - 1][1].push("");
      continue;
    }
    const heading = HEADING.exec(line);
    if (!heading) {
      sections[sections.length - 1][1].push(line);
      continue;
    }
    const text = cleanInline(heading[2]);
    if (titleAllowed && heading[1].length === 1 && title === null && !hasHeadings) {
      title = text;
      sections[sections.length - 1][1].push("");
    } else {
      hasHeadings = true;
      sections.push([text || null, []]);
    }
  }
  if (!hasHeadings) return { title, drafts: attachImages(paragraphs(sections[0][1])) };
  const drafts = [];
  for (const [headingText, sectionLines] of sections) {
    const parts = paragraphs(sectionLines);
    const narration = join(parts.map((p) => p.narration));
    const images = parts.flatMap((p) => p.images);
    if (headingText === null && !narration && !images.length) continue;
    drafts.push({ narration, title: headingText, images });
  }
  return { title, drafts };
}

function attachImages(drafts) {
  const out = [];
  let pending = [];
  for (const draft of drafts) {
    if (!draft.narration) {
      pending = [...pending, ...draft.images];
      continue;
    }
    out.push({ ...draft, images: [...pending, ...draft.images] });
    pending = [];
  }
  if (pending.length) {
    if (out.length && !out[out.length - 1].images.length) out[out.length - 1].images = pending;
    else out.push({ narration: "", title: null, images: pending });
  }
  return out;
}

function balancedGroups(weights, count) {
  const n = weights.length;
  count = Math.max(1, Math.min(count, n));
  const total = weights.reduce((a, b) => a + b, 0);
  const groups = [];
  let start = 0;
  let acc = 0;
  let done = 0;
  weights.forEach((weight, i) => {
    if (i > start) {
      const afterCurrent = count - groups.length - 1;
      const target = (total - done) / (count - groups.length);
      const mustClose = n - i === afterCurrent;
      const betterClosed = Math.abs(acc + weight - target) > Math.abs(acc - target);
      if (afterCurrent > 0 && (mustClose || betterClosed)) {
        groups.push([start, i]);
        done += acc;
        start = i;
        acc = 0;
      }
    }
    acc += weight;
  });
  groups.push([start, n]);
  return groups;
}

function splitLongSentence(sentence, maxWords) {
  const pieces = [];
  for (const clause of sentence.split(CLAUSE_END)) {
    if (wordCount(clause) <= maxWords) {
      pieces.push(clause);
      continue;
    }
    const words = clause.split(/\s+/u).filter(Boolean);
    const tokens = words.length > 1 ? words : [...clause];
    const chunks = Math.ceil(wordCount(clause) / maxWords);
    const glue = words.length > 1 ? " " : "";
    for (const [a, b] of balancedGroups(tokens.map(() => 1), chunks)) {
      pieces.push(tokens.slice(a, b).join(glue));
    }
  }
  return pieces.filter((p) => p.trim());
}

function splitText(text, maxWords) {
  if (wordCount(text) <= maxWords) return [text];
  const pieces = [];
  for (const sentence of splitSentences(text)) {
    if (wordCount(sentence) > maxWords) pieces.push(...splitLongSentence(sentence, maxWords));
    else pieces.push(sentence);
  }
  const weights = pieces.map(wordCount);
  let count = Math.ceil(weights.reduce((a, b) => a + b, 0) / maxWords);
  for (;;) {
    const groups = balancedGroups(weights, count);
    const fits = groups.every(([a, b]) => weights.slice(a, b).reduce((x, y) => x + y, 0) <= maxWords);
    if (count >= pieces.length || fits) return groups.map(([a, b]) => join(pieces.slice(a, b)));
    count += 1;
  }
}

function splitDraft(draft, maxWords) {
  const parts = draft.narration ? splitText(draft.narration, maxWords) : [""];
  return parts.map((part, i) => {
    const scene = { narration: part };
    if (i === 0 && draft.title) scene.title = draft.title;
    if (draft.images.length) scene.visual = draft.images[Math.min(i, draft.images.length - 1)];
    return scene;
  });
}

export function fitScenes(scenes, maxScenes) {
  if (scenes.length <= maxScenes) return scenes;
  const weights = scenes.map((s) => Math.max(1, wordCount(s.narration || "")));
  return balancedGroups(weights, maxScenes).map(([start, stop]) => {
    const group = scenes.slice(start, stop);
    const scene = { narration: join(group.map((s) => s.narration || "")) };
    for (const key of ["title", "visual"]) {
      const found = group.find((s) => s[key] !== undefined && s[key] !== null);
      if (found) scene[key] = found[key];
    }
    return scene;
  });
}

/** The front matter's simple "key: value" lines (enough to show max_scenes and the rest). */
function frontMatter(text) {
  const match = FRONT_MATTER.exec(text);
  if (!match) return { front: {}, body: text };
  const front = {};
  for (const line of (match[1] || "").split("\n")) {
    const pair = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/u.exec(line);
    if (pair) front[pair[1]] = pair[2].replace(/^["']|["']$/gu, "").trim();
  }
  return { front, body: text.slice(match[0].length) };
}

/**
 * The scenes a script makes: { title, front, scenes: [{title?, narration, visual?, words}] }.
 * ``maxScenes`` (a number) merges neighbours as the server does.
 */
export function splitScript(text, { maxScenes = null } = {}) {
  text = text.replace(/\r\n?/gu, "\n").replace(/^\ufeff/u, "");
  const { front, body } = frontMatter(text);
  const { title, drafts } = readMarkdown(body.replace(HTML_COMMENT, ""));
  let scenes = drafts.flatMap((d) => splitDraft(d, MAX_SCENE_WORDS));
  const limit = maxScenes ?? (/^\d+$/u.test(front.max_scenes || "") ? Number(front.max_scenes) : null);
  if (limit && limit >= 1) scenes = fitScenes(scenes, limit);
  scenes = scenes.map((s) => ({ ...s, words: wordCount(s.narration) }));
  return { title: front.title || title, front, scenes };
}
