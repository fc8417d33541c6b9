// What each submitted job was asked for, kept in this browser so "make a variant" can re-open
// the form with the same inputs (the API returns a job's status and results, not its request).

const PREFIX = "reelforge.request.";
const KEEP = 100;

export function remember(jobId, record) {
  try {
    localStorage.setItem(PREFIX + jobId, JSON.stringify({ ...record, saved: Date.now() }));
    const keys = Object.keys(localStorage).filter((k) => k.startsWith(PREFIX));
    if (keys.length > KEEP) {
      const dated = keys.map((k) => [k, JSON.parse(localStorage.getItem(k) || "{}").saved || 0]);
      dated.sort((a, b) => a[1] - b[1]);
      for (const [k] of dated.slice(0, keys.length - KEEP)) localStorage.removeItem(k);
    }
  } catch {
    /* storage full or disabled: variants are a convenience */
  }
}

export function recall(jobId) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + jobId) || "null");
  } catch {
    return null;
  }
}
