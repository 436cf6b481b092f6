// The one module that talks to the Veritas API. Pages never call fetch.
//
// Tokens: the access token lives in this module's memory only (gone on a
// reload; a refresh gets a new one). The refresh token is kept in IndexedDB
// (database veritas-session), so that a reload and the app's other tabs
// survive; other origins cannot read it, and the strict CSP (no inline or
// foreign script) is what keeps script of our own origin ours. A refresh
// token is single use: presenting one twice revokes its whole family. So
// every refresh, in every tab, runs under one Web Lock (navigator.locks):
// inside the lock the tab reads the refresh token afresh, so a tab that
// waited uses the token its neighbour just received, never the one its
// neighbour spent. Web Locks need a secure context (HTTPS or localhost): on
// plain http:// to a school server there are none, and two tabs may present
// the same token at once; the server's reuse interval answers both with the
// same new token (docs/security.md#the-refresh-reuse-interval).
// IndexedDB, not localStorage: a committed IndexedDB write
// is seen by every tab's next read, while Chromium propagates localStorage
// writes to other tabs asynchronously (a tab taking the lock right after
// its neighbour released it could still read the spent token: seen under
// load). Logout clears memory and storage, and other tabs follow (a
// BroadcastChannel message).

const STORAGE_PREFIX = "veritas.";
const LOCK_NAME = "veritas-token-refresh";
const SESSION_DB = "veritas-session";
const TOKEN_KEY = "refresh_token";
const channel = globalThis.BroadcastChannel ? new BroadcastChannel("veritas-session") : null;
// Refresh this long before the access token expires.
const REFRESH_MARGIN_MS = 60_000;

let accessToken = null;
let accessExpiresAt = 0;
let currentUser = null;
let refreshTimer = null;
let inFlightRefresh = null;
let adoptedRefreshToken = null; // the refresh token this tab received last
const listeners = new Set();

// Clock: the server's time minus ours. Each answer bounds it: a server time T
// read while the request was being served lies between our send and receive
// times, so the offset lies in [T - received, T - sent]. The Date header of
// every answer gives T to the second, and late (uvicorn refreshes it once a
// second): T in [D, D + 2 s). A time the API returns, read by the database
// during the request (an autosave's saved_at, a new attempt's started_at),
// gives T to the microsecond (noteServerTime). The intersection of all the
// intervals narrows the offset down; its middle is the estimate.
const DATE_HEADER_SPAN_MS = 2000;
let offsetLow = -Infinity;
let offsetHigh = Infinity;

function narrow(low, high) {
  if (low > offsetHigh || high < offsetLow) {
    // Our clock jumped (or the server's): start over from this answer.
    offsetLow = low;
    offsetHigh = high;
  } else {
    offsetLow = Math.max(offsetLow, low);
    offsetHigh = Math.min(offsetHigh, high);
  }
}

function noteServerDate(response, sentAt, receivedAt) {
  const header = response.headers.get("Date");
  const date = header ? Date.parse(header) : NaN;
  if (Number.isNaN(date)) return;
  narrow(date - receivedAt, date + DATE_HEADER_SPAN_MS - sentAt);
}

/** A server time (RFC 3339) read while the request sent at sentAt was served. */
function noteServerTime(value, sentAt, receivedAt) {
  const t = value ? Date.parse(value) : NaN;
  if (!Number.isNaN(t)) narrow(t - receivedAt, t - sentAt);
}

/** Milliseconds to add to Date.now() to get the server's clock (0 until known). */
export function clockOffset() {
  if (!Number.isFinite(offsetLow) || !Number.isFinite(offsetHigh)) return 0;
  return (offsetLow + offsetHigh) / 2;
}

/** The server's time now, as milliseconds since the epoch. */
export function serverNow() {
  return Date.now() + clockOffset();
}

/** An answer that was not 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(messageFor(status, body, retryAfter));
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? null;
    this.serverMessage = body?.message ?? null;
    this.details = body?.details ?? null;
    this.hint = body?.hint ?? null;
    this.retryAfter = retryAfter;
  }

  get offline() {
    return this.status === 0;
  }
}

function sentence(text) {
  if (!text) return "";
  const t = String(text).trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The contract's error body, turned into a sentence a person can act on. */
export function messageFor(status, body, retryAfter = null) {
  const said = sentence(body?.message);
  switch (status) {
    case 0:
      return "No connection to the server. Check the network; nothing is lost, it will be retried.";
    case 400:
      return said ? `Please check the form: ${said}` : "The request was not accepted; check the form.";
    case 401:
      return said && body?.message === "invalid email or password"
        ? "Wrong email or password."
        : "Your session has ended. Please log in again.";
    case 403:
      return `You are not allowed to do this${said ? ` (${said.replace(/\.$/, "")})` : ""}.`;
    case 404:
      return "Not found, or not yours to see.";
    case 409:
      return said || "This cannot be done in the current state.";
    case 413:
      return "That is too large to send.";
    case 429:
      return `Too many attempts. Try again${retryAfter ? ` in ${retryAfter} s` : " shortly"}.`;
    case 503:
      return `The service is briefly unavailable. Try again${retryAfter ? ` in ${retryAfter} s` : " shortly"}.`;
    default:
      return said || `Something went wrong (HTTP ${status}). Please try again.`;
  }
}

function notify() {
  for (const listener of listeners) {
    try {
      listener(currentUser);
    } catch (error) {
      console.error(error);
    }
  }
}

/** Call listener(user or null) whenever the session starts or ends. */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function user() {
  return currentUser;
}

// --- the refresh token's store: IndexedDB, else localStorage -------------------

let sessionDb = null;

function openSessionDb() {
  if (!sessionDb) {
    sessionDb = new Promise((resolve) => {
      if (!globalThis.indexedDB) {
        resolve(null);
        return;
      }
      try {
        const open = indexedDB.open(SESSION_DB, 1);
        open.onupgradeneeded = () => open.result.createObjectStore("kv");
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  }
  return sessionDb;
}

async function storedRefreshToken() {
  const db = await openSessionDb();
  if (!db) {
    try {
      return localStorage.getItem(STORAGE_PREFIX + TOKEN_KEY);
    } catch {
      return null;
    }
  }
  return new Promise((resolve) => {
    const read = db.transaction("kv", "readonly").objectStore("kv").get(TOKEN_KEY);
    read.onsuccess = () => resolve(read.result ?? null);
    read.onerror = () => resolve(null);
  });
}

/** Store (or, with null, delete) the refresh token; resolves once committed. */
async function storeRefreshToken(value) {
  const db = await openSessionDb();
  if (!db) {
    try {
      if (value === null) localStorage.removeItem(STORAGE_PREFIX + TOKEN_KEY);
      else localStorage.setItem(STORAGE_PREFIX + TOKEN_KEY, value);
    } catch {
      // storage disabled: the session lasts as long as this page
    }
    return;
  }
  await new Promise((resolve) => {
    const tx = db.transaction("kv", "readwrite");
    if (value === null) tx.objectStore("kv").delete(TOKEN_KEY);
    else tx.objectStore("kv").put(value, TOKEN_KEY);
    tx.oncomplete = resolve;
    tx.onerror = resolve;
    tx.onabort = resolve;
  });
}

/** True while a refresh token is stored (a session a reload would resume). */
export async function hasStoredSession() {
  return (await storedRefreshToken()) !== null;
}

async function clearStorage() {
  await storeRefreshToken(null);
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(STORAGE_PREFIX)) localStorage.removeItem(key);
    }
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(STORAGE_PREFIX)) sessionStorage.removeItem(key);
    }
  } catch {
    // storage disabled: nothing kept there
  }
}

function forget() {
  accessToken = null;
  accessExpiresAt = 0;
  const had = currentUser !== null;
  currentUser = null;
  clearTimeout(refreshTimer);
  refreshTimer = null;
  return had;
}

async function adopt(tokens) {
  await storeRefreshToken(tokens.refresh_token);
  adoptedRefreshToken = tokens.refresh_token;
  accessToken = tokens.access_token;
  accessExpiresAt = Date.now() + Number(tokens.expires_in) * 1000;
  currentUser = tokens.user;
  clearTimeout(refreshTimer);
  const wait = Math.max(5_000, accessExpiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => {
    refresh().catch(() => {});
  }, Math.min(wait, 2 ** 31 - 1));
  notify();
}

async function raw(method, path, { body, token, accept = "application/json", query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const sentAt = Date.now();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, null);
  }
  const receivedAt = Date.now();
  noteServerDate(response, sentAt, receivedAt);
  response.timing = { sentAt, receivedAt };
  if (!response.ok) {
    let errorBody = null;
    try {
      errorBody = await response.json();
    } catch {
      errorBody = null;
    }
    const retry = response.headers.get("Retry-After");
    throw new ApiError(response.status, errorBody, retry ? Number(retry) : null);
  }
  return response;
}

async function withLock(task) {
  if (navigator.locks?.request) {
    return navigator.locks.request(LOCK_NAME, { mode: "exclusive" }, task);
  }
  // No Web Locks (an insecure context: plain http:// to another host): one
  // refresh at a time in this tab; a neighbour refreshing the same token at
  // the same moment gets the same new one (the server's reuse interval).
  return task();
}

/**
 * Rotate the refresh token: one refresh at a time across all tabs. Answers
 * true when this tab holds a fresh access token afterwards.
 */
export function refresh() {
  if (inFlightRefresh) return inFlightRefresh;
  const seen = adoptedRefreshToken;
  inFlightRefresh = withLock(async () => {
    const presented = await storedRefreshToken();
    if (!presented) {
      if (forget()) notify();
      return false;
    }
    // Another tab refreshed while we waited and this tab already adopted a
    // token issued after that: nothing to do. (Otherwise rotate again with the
    // newest token; sequential rotations are not reuse.)
    if (seen && presented !== seen && accessToken && accessExpiresAt - Date.now() > REFRESH_MARGIN_MS) {
      return true;
    }
    try {
      const response = await raw("POST", "/auth/refresh", { body: { refresh_token: presented } });
      await adopt(await response.json());
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        // Used, expired or revoked: unless a neighbour rotated meanwhile, the session is over.
        if ((await storedRefreshToken()) === presented) await clearStorage();
        channel?.postMessage("ended");
        if (forget()) notify();
        return false;
      }
      throw error;
    }
  }).finally(() => {
    inFlightRefresh = null;
  });
  return inFlightRefresh;
}

/** A valid access token, refreshed first when it is missing or about to expire. */
export async function getToken() {
  if (accessToken && accessExpiresAt - Date.now() > REFRESH_MARGIN_MS) return accessToken;
  if (await refresh()) return accessToken;
  return null;
}

/** On page load: resume the session kept by the refresh token, if any. */
export async function restore() {
  if (accessToken) return currentUser;
  if (!(await storedRefreshToken())) return null;
  try {
    await refresh();
  } catch (error) {
    // Offline or server down: keep the refresh token, report no session yet.
    if (error instanceof ApiError && (error.offline || error.status >= 500)) throw error;
  }
  return currentUser;
}

async function request(method, path, options = {}) {
  const token = await getToken();
  try {
    return await raw(method, path, { ...options, token });
  } catch (error) {
    // A token refused (logged out elsewhere, sessions ended): one refresh, one retry.
    if (error instanceof ApiError && error.status === 401 && token) {
      if (await refresh()) return raw(method, path, { ...options, token: accessToken });
    }
    throw error;
  }
}

async function json(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export async function get(path, query) {
  return json(await request("GET", path, { query }));
}

/** GET with the answer's Link rel="next" (RFC 8288), for paged lists. */
export async function getPage(path, query) {
  const response = await request("GET", path, { query });
  const link = response.headers.get("Link") || "";
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return { data: await json(response), next: match ? match[1] : null };
}

/**
 * serverTime: (answer) => a time the server read while serving this request
 * (e.g. an autosave's saved_at), or null; it sharpens clockOffset().
 */
async function send(method, path, body, serverTime) {
  const response = await request(method, path, { body });
  const data = await json(response);
  if (serverTime && data) noteServerTime(serverTime(data), response.timing.sentAt, response.timing.receivedAt);
  return data;
}

export function post(path, body = {}, { serverTime } = {}) {
  return send("POST", path, body, serverTime);
}

export function put(path, body = {}, { serverTime } = {}) {
  return send("PUT", path, body, serverTime);
}

/** A file of the API (e.g. a timeline as CSV), with the token; a Blob. */
export async function download(path, accept) {
  const response = await request("GET", path, { accept });
  return response.blob();
}

async function signIn(path, body) {
  const response = await raw("POST", path, { body });
  await adopt(await response.json());
  return currentUser;
}

export function login(email, password) {
  return signIn("/auth/login", { email, password });
}

export function register(email, password, fullName) {
  return signIn("/auth/register", { email, password, full_name: fullName });
}

/** Ends the session on the server (token and refresh family), then forgets everything here. */
export async function logout() {
  const token = accessToken;
  const presented = await storedRefreshToken();
  try {
    if (token) {
      await raw("POST", "/auth/logout", {
        token,
        body: presented ? { refresh_token: presented } : {},
      });
    }
  } catch {
    // Offline or already logged out: still forget everything here.
  } finally {
    await clearStorage();
    forget();
    channel?.postMessage("ended");
    notify();
  }
}

// Another tab logged out (or its refresh found the session over): follow it.
channel?.addEventListener("message", (event) => {
  if (event.data === "ended" && forget()) notify();
});

/** Small state kept across a reload and a crash (localStorage), cleared at logout. */
export const stash = {
  get(name) {
    try {
      const value = localStorage.getItem(STORAGE_PREFIX + name);
      return value === null ? null : JSON.parse(value);
    } catch {
      return null;
    }
  },
  set(name, value) {
    try {
      localStorage.setItem(STORAGE_PREFIX + name, JSON.stringify(value));
    } catch {
      // storage full or disabled
    }
  },
  remove(name) {
    try {
      localStorage.removeItem(STORAGE_PREFIX + name);
    } catch {
      // storage disabled
    }
  },
};
