// Where the server's endpoints are and how to call them with a session token.

const API_KEY_STORE = "notestream.api_key";

/**
 * The service's API key, if it runs with one: open the page once as `/?api_key=...` and it is kept
 * for this browser tab (sessionStorage), then sent with every request.
 */
export function apiKey() {
  const fromUrl = new URLSearchParams(location.search).get("api_key");
  if (fromUrl) sessionStorage.setItem(API_KEY_STORE, fromUrl);
  return fromUrl ?? sessionStorage.getItem(API_KEY_STORE);
}

/** Headers for fetch/XHR: the session token as a bearer, plus the API key when there is one. */
export function authHeaders(token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  return headers;
}

/** The WebSocket URL of the live stream on the server that served this page. */
export function streamUrl(session = null) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(`${scheme}//${location.host}/v1/stream`);
  const key = apiKey();
  if (key) url.searchParams.set("api_key", key);
  if (session) url.searchParams.set("session", session); // a load balancer routes the resume on it
  return url.toString();
}

/** `path` with `?token=` (and `api_key`) appended: browsers cannot put a bearer header on a link or an <img>. */
export function withToken(path, token) {
  const url = new URL(path, location.href);
  if (token) url.searchParams.set("token", token);
  const key = apiKey();
  if (key) url.searchParams.set("api_key", key);
  return url.pathname + url.search;
}

/** The download URLs of a session, from the server's `urls` when given, else by convention. */
export function sessionUrls(id, urls = {}) {
  const base = `/v1/sessions/${encodeURIComponent(id)}`;
  return {
    json: urls.json ?? base,
    midi: urls.midi ?? `${base}.mid`,
    musicxml: urls.musicxml ?? `${base}.musicxml`,
    svg: urls.svg ?? `${base}.svg`,
    pdf: urls.pdf ?? `${base}.pdf`,
    audio: urls.audio ?? `${base}.flac`,
  };
}

/** GET JSON with a bearer token; throws an Error whose message is the server's sentence. */
export async function getJson(path, token, { timeoutMs = 15000 } = {}) {
  const response = await fetch(path, {
    headers: authHeaders(token),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

/** The human message in an error response (JSON `message`/`error`, else the status line). */
export async function errorText(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return body.message ?? body.error ?? text;
  } catch {
    return text || `${response.status} ${response.statusText}`;
  }
}
