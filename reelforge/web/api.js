// The studio's only way to the server: the public REST API, authenticated with the API key the
// user typed in (kept in localStorage, sent as an Authorization header, never put in a URL).

const KEY_STORAGE = "reelforge.apiKey";

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  localStorage.setItem(KEY_STORAGE, key.trim());
}

export function clearKey() {
  localStorage.removeItem(KEY_STORAGE);
}

function authHeaders() {
  const key = getKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** An API error: ``status`` and the problem+json body (``detail``, ``hint``, ``errors``). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      /* fall through */
    }
  }
  const text = await response.text().catch(() => "");
  return { title: response.statusText, detail: text.slice(0, 300) || `HTTP ${response.status}` };
}

/** Call the API; the parsed JSON body (null for 204), or an ApiError. */
export async function api(method, path, { json, body, signal, headers } = {}) {
  const init = { method, headers: { ...authHeaders(), ...(headers || {}) }, signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      title: "Network error",
      detail: "the server did not answer",
      hint: "check that `reelforge serve` is still running",
    });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Does the server let us in? "open" (no key needed), "key" (our key works) or "signin". */
export async function authState() {
  try {
    await api("GET", "/api/jobs?limit=1");
    return getKey() ? "key" : "open";
  } catch (error) {
    if (error.status === 401) return "signin";
    throw error;
  }
}

let openapiPromise = null;
/** The server's OpenAPI document (fetched once). */
export function openapi() {
  openapiPromise ??= api("GET", "/openapi.json");
  return openapiPromise;
}

/** Upload a file to POST /api/media; resolves to the MediaOut (``reference`` is media:<id>). */
export function uploadMedia(file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const request = new XMLHttpRequest(); // fetch() reports no upload progress
    request.open("POST", "/api/media");
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let parsed = null;
      try {
        parsed = JSON.parse(request.responseText);
      } catch {
        parsed = { detail: request.responseText.slice(0, 300) };
      }
      if (request.status >= 200 && request.status < 300) resolve(parsed);
      else reject(new ApiError(request.status, parsed));
    };
    request.onerror = () =>
      reject(new ApiError(0, { title: "Network error", detail: "the upload did not reach the server" }));
    request.send(form);
  });
}

/**
 * Follow a job's server-sent events with fetch() (EventSource cannot send the Authorization
 * header). Calls onEvent(name, data, id) for each event; reconnects after a dropped connection
 * or a server "timeout" event, resuming after the last event id. Returns a function that stops.
 */
export function followEvents(url, onEvent) {
  const controller = new AbortController();
  let lastId = 0;
  let retryMs = 1000;
  let stopped = false;

  async function connect() {
    while (!stopped) {
      let ended = false;
      try {
        const target = lastId ? `${url}?after=${lastId}` : url;
        const response = await fetch(target, {
          headers: { ...authHeaders(), Accept: "text/event-stream" },
          signal: controller.signal,
        });
        if (!response.ok) {
          const problem = await problemOf(response);
          if (response.status !== 429) {
            onEvent("error", problem, null);
            return;
          }
        } else {
          ended = await readStream(response.body, (name, data, id) => {
            if (id !== null && Number.isFinite(id)) lastId = Math.max(lastId, id);
            if (name === "retry") {
              retryMs = data;
              return false;
            }
            if (name === "timeout") return false; // reconnect at once
            onEvent(name, data, id);
            return name === "end" || name === "error";
          });
        }
      } catch (error) {
        if (error.name === "AbortError") return;
      }
      if (ended || stopped) return;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  connect();
  return () => {
    stopped = true;
    controller.abort();
  };
}

/** Parse a text/event-stream body; handle(name, data, id) returns true to stop. */
async function readStream(body, handle) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += value.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message";
        let id = null;
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
          else if (field === "id") id = Number(value);
          else if (field === "retry" && /^\d+$/.test(value)) {
            if (handle("retry", Number(value), null)) return true;
          }
        }
        if (!data.length) continue;
        let parsed;
        try {
          parsed = JSON.parse(data.join("\n"));
        } catch {
          parsed = data.join("\n");
        }
        if (handle(name, parsed, id)) {
          reader.cancel().catch(() => {});
          return true;
        }
      }
    }
  } finally {
    reader.releaseLock?.();
  }
}

const blobUrls = new Map();
/**
 * A URL the browser can load a result from: the API link itself in open mode (so a video
 * streams with range requests), or, with a key, an object URL of the file fetched with the
 * Authorization header (a <video>, <img> or <track> cannot send one).
 */
export async function fileUrl(path) {
  if (!getKey()) return path;
  if (blobUrls.has(path)) return blobUrls.get(path);
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const url = URL.createObjectURL(await response.blob());
  blobUrls.set(path, url);
  return url;
}

/** Forget the object URLs of results (leaving a job page). */
export function releaseFiles() {
  for (const url of blobUrls.values()) URL.revokeObjectURL(url);
  blobUrls.clear();
}

/** Save a result under ``filename`` (fetched with the key when there is one). */
export async function download(path, filename) {
  const url = await fileUrl(path);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
}
