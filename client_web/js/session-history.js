// "My sessions": ids and tokens of recent live sessions and file jobs, kept only in this browser.

const KEY = "notestream.sessions";
const LIMIT = 50;

/** All remembered sessions, newest first: [{id, token, kind, title, created, notes, duration, urls}]. */
export function loadSessions() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((s) => s && s.id && s.token) : [];
  } catch {
    return [];
  }
}

/** Remember (or update) a session; keeps the newest LIMIT. */
export function rememberSession(entry) {
  const others = loadSessions().filter((s) => s.id !== entry.id);
  const previous = loadSessions().find((s) => s.id === entry.id) ?? {};
  const merged = { created: new Date().toISOString(), ...previous, ...entry };
  localStorage.setItem(KEY, JSON.stringify([merged, ...others].slice(0, LIMIT)));
  window.dispatchEvent(new CustomEvent("notestream:sessions"));
}

export function forgetSession(id) {
  localStorage.setItem(KEY, JSON.stringify(loadSessions().filter((s) => s.id !== id)));
  window.dispatchEvent(new CustomEvent("notestream:sessions"));
}

export function forgetAll() {
  localStorage.removeItem(KEY);
  window.dispatchEvent(new CustomEvent("notestream:sessions"));
}
