// Veritas monitoring module: reports what the browser sees during an exam
// attempt to POST /monitor/events. Standalone (no import), embeddable by any
// frontend that holds a Veritas access token. Documented in docs/web.md.
//
//   import { startMonitoring } from "/app/monitor/monitor.js";
//   const monitor = startMonitoring({ attemptId, getToken });
//   ...
//   await monitor.stop({ flush: true });   // before submitting the attempt
//
// What it records: the type and time of each event below, and for copy and
// paste the question they happened in. What it never records or sends: any
// clipboard text, any keystroke or typed text, any screenshot, camera or
// microphone data, any URL or title of another page.

/**
 * The event types of the database (app.event_type / app.event_types), in its
 * order. Mirrored here so that the module works offline and standalone;
 * tests/test_web_monitor.py fails when this list and the database's differ.
 */
export const EVENT_TYPES = Object.freeze([
  "gaze_away",
  "face_missing",
  "multiple_faces",
  "tab_hidden",
  "window_blur",
  "copy",
  "paste",
  "fullscreen_exit",
  "unusual_pause",
  "network_offline",
  "devtools_open",
  "heartbeat",
  "tab_visible",
  "window_focus",
  "fullscreen_enter",
  "network_online",
]);

const DB_NAME = "veritas-monitor";
const STORE = "events";
const MAX_BATCH = 500; // the contract's limit for one POST
const KEEPALIVE_BATCH = 50; // a keepalive request's body must stay under 64 KiB
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 60_000;
const STALE_MS = 24 * 3600 * 1000; // leftovers of other attempts are dropped after a day

function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function sleepJitter(maxMs) {
  return Math.random() * maxMs;
}

// --- the buffer: IndexedDB, or memory where IndexedDB cannot be opened ---------

function idbRequest(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function openBuffer() {
  if (!globalThis.indexedDB) return memoryBuffer();
  try {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore(STORE, { keyPath: "client_event_id" });
      store.createIndex("attempt_id", "attempt_id");
    };
    const db = await idbRequest(open);
    const tx = (mode) => db.transaction(STORE, mode).objectStore(STORE);
    const done = (t) =>
      new Promise((resolve, reject) => {
        t.oncomplete = () => resolve();
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
      });
    return {
      kind: "indexeddb",
      async add(event) {
        const store = tx("readwrite");
        store.put(event);
        await done(store.transaction);
      },
      async take(attemptId, limit) {
        return idbRequest(tx("readonly").index("attempt_id").getAll(IDBKeyRange.only(attemptId), limit));
      },
      async count(attemptId) {
        return idbRequest(tx("readonly").index("attempt_id").count(IDBKeyRange.only(attemptId)));
      },
      async remove(ids) {
        const store = tx("readwrite");
        for (const id of ids) store.delete(id);
        await done(store.transaction);
      },
      async removeAttempt(attemptId) {
        const ids = await idbRequest(tx("readonly").index("attempt_id").getAllKeys(IDBKeyRange.only(attemptId)));
        await this.remove(ids);
      },
      async dropStale(attemptId, before) {
        const all = await idbRequest(tx("readonly").getAll());
        const stale = all.filter((e) => e.attempt_id !== attemptId && e.stored_at < before);
        if (stale.length) await this.remove(stale.map((e) => e.client_event_id));
      },
    };
  } catch {
    return memoryBuffer();
  }
}

function memoryBuffer() {
  const events = new Map();
  return {
    kind: "memory",
    async add(event) {
      events.set(event.client_event_id, event);
    },
    async take(attemptId, limit) {
      return [...events.values()].filter((e) => e.attempt_id === attemptId).slice(0, limit);
    },
    async count(attemptId) {
      return [...events.values()].filter((e) => e.attempt_id === attemptId).length;
    },
    async remove(ids) {
      for (const id of ids) events.delete(id);
    },
    async removeAttempt(attemptId) {
      for (const [id, e] of events) if (e.attempt_id === attemptId) events.delete(id);
    },
    async dropStale() {},
  };
}

// --- the module ---------------------------------------------------------------

/**
 * Start monitoring one attempt. Options:
 *   attemptId        the attempt (required)
 *   getToken         async () => access token or null (required); called before each send
 *   endpoint         "/monitor/events" (an absolute URL for another origin)
 *   now              () => ms since the epoch for occurred_at; pass a clock corrected
 *                    for the client's skew (default Date.now)
 *   heartbeatSeconds 30    a heartbeat while the attempt runs (the analyser counts
 *                          gaps over 60 s as unobserved time)
 *   pauseSeconds     120   no input for this long: one unusual_pause
 *   flushSeconds     5     how often buffered events are sent
 *   devtools         true  report devtools_open (a heuristic: docs/web.md)
 *   onStatus         ({pending, state, lastStatus}) => void, after each send
 *   fetch            the fetch to use (default globalThis.fetch)
 * Returns {record(type, payload), flush(), stop({flush, timeoutMs}), pending(), buffer}.
 * Nothing it does throws into the page, and nothing waits for the network.
 */
export function startMonitoring(options) {
  const {
    attemptId,
    getToken,
    endpoint = "/monitor/events",
    now = Date.now,
    heartbeatSeconds = 30,
    pauseSeconds = 120,
    flushSeconds = 5,
    devtools = true,
    onStatus = () => {},
    fetch: fetchFn = (...args) => globalThis.fetch(...args),
  } = options || {};
  if (!attemptId || typeof getToken !== "function") {
    throw new TypeError("startMonitoring needs {attemptId, getToken}");
  }

  let stopped = false;
  let closed = false; // the server will take no more events for this attempt
  let failures = 0;
  let timer = null;
  let flushing = null;
  let lastStatus = null;
  let notBefore = 0; // no send before this time (backoff, Retry-After), unless forced
  let writes = Promise.resolve();
  const bufferReady = openBuffer();
  const cleanups = [];

  function on(target, type, handler, opts) {
    target.addEventListener(type, handler, opts);
    cleanups.push(() => target.removeEventListener(type, handler, opts));
  }

  function status(state) {
    pending()
      .then((count) => onStatus({ pending: count, state, lastStatus }))
      .catch(() => {});
  }

  /** Buffer one event. Answers its client_event_id (or null when not recorded). */
  function record(eventType, payload = {}) {
    if (stopped || closed || !EVENT_TYPES.includes(eventType)) return null;
    const event = {
      attempt_id: attemptId,
      event_type: eventType,
      occurred_at: new Date(now()).toISOString(),
      payload: payload && typeof payload === "object" && !Array.isArray(payload) ? payload : {},
      client_event_id: uuid(),
      stored_at: Date.now(),
    };
    writes = writes
      .then(() => bufferReady)
      .then((buffer) => buffer.add(event))
      .catch(() => {});
    return event.client_event_id;
  }

  async function pending() {
    await writes;
    return (await bufferReady).count(attemptId);
  }

  function schedule(delayMs) {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      flush({ force: true }).catch(() => {});
    }, delayMs);
  }

  function backoff() {
    failures += 1;
    return sleepJitter(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** failures));
  }

  async function post(events, keepalive) {
    const token = await getToken();
    if (!token) return { status: 401 };
    const body = events.length === 1 ? strip(events[0]) : { events: events.map(strip) };
    try {
      const response = await fetchFn(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        keepalive,
        credentials: "omit",
      });
      const retry = Number(response.headers.get("Retry-After"));
      return { status: response.status, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null };
    } catch {
      return { status: 0 };
    }
  }

  function strip(e) {
    return {
      attempt_id: e.attempt_id,
      event_type: e.event_type,
      occurred_at: e.occurred_at,
      payload: e.payload,
      client_event_id: e.client_event_id,
    };
  }

  // One send of at most one batch; answers the delay before the next try, or 0 for "go on".
  async function sendOnce(keepalive) {
    await writes;
    const buffer = await bufferReady;
    const batch = await buffer.take(attemptId, keepalive ? KEEPALIVE_BATCH : MAX_BATCH);
    if (batch.length === 0) return null;
    const answer = await post(batch, keepalive);
    lastStatus = answer.status;
    if (answer.status === 202) {
      failures = 0;
      await buffer.remove(batch.map((e) => e.client_event_id));
      return 0;
    }
    if (answer.status === 400) {
      // One event the server refuses would hold back the batch: send them one by one.
      if (batch.length === 1) {
        await buffer.remove([batch[0].client_event_id]);
        return 0;
      }
      for (const event of batch) {
        const single = await post([event], keepalive);
        if (single.status === 202 || single.status === 400) await buffer.remove([event.client_event_id]);
        else return backoff();
      }
      return 0;
    }
    if (answer.status === 404 || answer.status === 409) {
      // Not this caller's attempt, or the attempt is over: nothing more can be recorded.
      closed = true;
      await buffer.removeAttempt(attemptId);
      return null;
    }
    if (answer.status === 429 || answer.status === 503) {
      failures += 1;
      const base = (answer.retryAfter ?? 1) * 1000;
      return base + sleepJitter(Math.min(BACKOFF_CAP_MS, base));
    }
    return backoff(); // offline (0), 401/403 (the token will be refreshed), 5xx
  }

  /**
   * Send everything buffered (batches of up to 500). Never throws. While a
   * backoff or a Retry-After runs, it waits for it, unless forced (the last
   * chance before a submit, or the network just came back).
   */
  function flush({ keepalive = false, force = false } = {}) {
    if (flushing) return flushing;
    if (!force && Date.now() < notBefore) {
      schedule(notBefore - Date.now());
      return Promise.resolve(false);
    }
    const work = async () => {
      let delay = null;
      try {
        for (let round = 0; round < 100; round += 1) {
          delay = await sendOnce(keepalive);
          if (delay !== 0) break;
        }
      } catch {
        delay = backoff();
      }
      notBefore = delay ? Date.now() + delay : 0;
      status(delay ? "retrying" : "idle");
      if (!stopped && !closed) schedule(delay || flushSeconds * 1000);
      return delay === null || delay === 0;
    };
    // One sender per attempt across tabs (duplicates would be harmless, only wasted).
    const locked = navigator.locks?.request
      ? navigator.locks.request(`veritas-monitor-${attemptId}`, work)
      : work();
    flushing = locked.catch(() => false).finally(() => {
      flushing = null;
    });
    return flushing;
  }

  // --- what is watched ---------------------------------------------------------

  on(document, "visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      record("tab_hidden");
      flush({ keepalive: true });
    } else {
      record("tab_visible");
    }
  });
  on(window, "blur", () => record("window_blur"));
  on(window, "focus", () => record("window_focus"));

  const questionOf = (event) => {
    const holder = event.target?.closest?.("[data-question-id]");
    return holder ? { question_id: holder.dataset.questionId } : {};
  };
  // Only that it happened and where: the clipboard is never read.
  on(document, "copy", (event) => record("copy", questionOf(event)));
  on(document, "cut", (event) => record("copy", { ...questionOf(event), cut: true }));
  on(document, "paste", (event) => record("paste", questionOf(event)));

  let wasFullscreen = Boolean(document.fullscreenElement);
  on(document, "fullscreenchange", () => {
    const full = Boolean(document.fullscreenElement);
    if (full && !wasFullscreen) record("fullscreen_enter");
    if (!full && wasFullscreen) record("fullscreen_exit");
    wasFullscreen = full;
  });

  on(window, "offline", () => record("network_offline"));
  on(window, "online", () => {
    record("network_online");
    failures = 0;
    flush({ force: true });
  });
  on(window, "pagehide", () => flush({ keepalive: true }));

  // unusual_pause: only the time of the last input is kept, never what it was.
  let lastInput = Date.now();
  let pauseReported = false;
  const touched = () => {
    lastInput = Date.now();
    pauseReported = false;
  };
  for (const type of ["keydown", "pointerdown", "pointermove", "wheel", "touchstart", "input", "scroll"]) {
    on(document, type, touched, { passive: true, capture: true });
  }
  const pauseTimer = setInterval(() => {
    if (!pauseReported && document.visibilityState === "visible" && Date.now() - lastInput >= pauseSeconds * 1000) {
      pauseReported = true;
      record("unusual_pause", { seconds: Math.round((Date.now() - lastInput) / 1000) });
    }
  }, Math.min(5000, pauseSeconds * 500));
  cleanups.push(() => clearInterval(pauseTimer));

  // devtools_open: a docked panel (devtools, mostly) shrinks the page while the
  // window keeps its size. Undocked devtools go unseen; a browser side panel
  // opened during the exam looks the same. Reported once per opening.
  if (devtools && window.outerWidth > 0 && window.outerHeight > 0) {
    let base = null;
    let open = false;
    const sample = () => ({
      ow: window.outerWidth, oh: window.outerHeight,
      gw: window.outerWidth - window.innerWidth, gh: window.outerHeight - window.innerHeight,
    });
    base = sample();
    const devtoolsTimer = setInterval(() => {
      const s = sample();
      if (s.ow !== base.ow || s.oh !== base.oh) {
        base = s; // the window itself changed: a new baseline
        open = false;
        return;
      }
      const grew = Math.max(s.gw - base.gw, s.gh - base.gh);
      if (grew > 160 && !open) {
        open = true;
        record("devtools_open", { method: "docked_panel", grew_px: grew });
      } else if (grew <= 160) {
        open = false;
      }
    }, 2000);
    cleanups.push(() => clearInterval(devtoolsTimer));
  }

  const heartbeat = setInterval(() => record("heartbeat"), heartbeatSeconds * 1000);
  cleanups.push(() => clearInterval(heartbeat));
  record("heartbeat");

  bufferReady.then((buffer) => buffer.dropStale(attemptId, Date.now() - STALE_MS)).catch(() => {});
  schedule(0);

  /**
   * Stop watching. With flush (the default), try to send what is buffered,
   * for at most timeoutMs; whatever is left stays in the buffer (sent by the
   * next startMonitoring of this attempt). Resolves {left}; never rejects.
   */
  async function stop({ flush: doFlush = true, timeoutMs = 3000 } = {}) {
    if (!stopped) {
      for (const undo of cleanups.splice(0)) undo();
      if (doFlush && !closed) {
        const sent = flush({ force: true });
        await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      }
      stopped = true;
      clearTimeout(timer);
    }
    let left = 0;
    try {
      left = await pending();
    } catch {
      left = 0;
    }
    return { left };
  }

  return {
    record,
    flush: () => flush(),
    stop,
    pending,
    get buffer() {
      return bufferReady.then((b) => b.kind);
    },
  };
}
