// Building the page with DOM APIs only: every value goes in as text
// (textContent, text nodes, attributes), never through innerHTML.

let uid = 0;

/** A fresh id for label/aria pairings. */
export function newId(prefix = "v") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * h("button", {class: "primary", type: "button", on: {click}}, "Save")
 * props: class, text, on {event: handler}, dataset, style-free; keys that are
 * element properties (value, checked, disabled, hidden, id, type...) are set
 * as properties, aria-* / role / for / other names as attributes.
 */
export function h(tag, props = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === "dataset") {
      for (const [name, v] of Object.entries(value)) el.dataset[name] = String(v);
    } else if (!svg && key in el && !key.startsWith("aria") && key !== "role" && key !== "for") {
      try {
        el[key] = value;
      } catch {
        el.setAttribute(key, String(value)); // a read-only property (input.list)
      }
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Say something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A change after a tick is announced even when the text repeats.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** A labelled form control: <div class="field"><label>..</label>control<p hint></div>. */
export function field(label, control, hint = null) {
  const id = control.id || newId("f");
  control.id = id;
  const parts = [h("label", { for: id, text: label }), control];
  if (hint) {
    const hintId = newId("hint");
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { class: "hint", id: hintId, text: hint }));
  }
  return h("div", { class: "field" }, parts);
}

/** An error shown to the person: role=alert, the API's message as text. */
export function errorBox(error) {
  const text = error?.message || String(error);
  return h("div", { class: "error", role: "alert" }, text);
}

/** A table from columns [{label, value(row) -> text|Node, class?}] and rows. */
export function table(columns, rows, { caption = null, empty = "Nothing yet.", rowClass } = {}) {
  if (!rows || rows.length === 0) return h("p", { class: "empty", text: empty });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { text: caption }) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c.label })))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            { class: rowClass ? rowClass(row) : null },
            columns.map((c) => {
              const v = c.value(row);
              return h("td", { class: c.class || null }, v === null || v === undefined ? "—" : v);
            }),
          ),
        ),
      ),
    ),
  );
}

export function link(href, text, props = {}) {
  return h("a", { href, ...props }, text);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeWithSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export function fmtDate(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : dateTime.format(d);
}

export function fmtTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : timeWithSeconds.format(d);
}

export function fmtNumber(value, digits = 2) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (Number.isNaN(n)) return String(value);
  return n.toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function fmtPercent(value) {
  return value === null || value === undefined ? "—" : `${fmtNumber(value, 1)} %`;
}

/** "4 min 05 s", "1 h 02 min" from milliseconds (never negative). */
export function fmtDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (hours > 0) return `${hours} h ${pad(minutes)} min`;
  return `${minutes} min ${pad(seconds)} s`;
}

/** "12 s ago", "3 min ago" */
export function fmtAgo(value, now = Date.now()) {
  if (!value) return "never";
  const seconds = Math.max(0, Math.round((now - new Date(value).getTime()) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** A <dialog> asking to confirm; resolves true or false. Focus returns where it was. */
export function confirmDialog({ title, body, confirm = "Confirm", cancel = "Cancel" }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const titleId = newId("dlg");
    const ok = h("button", { type: "button", class: "primary", text: confirm });
    const no = h("button", { type: "button", text: cancel });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId, text: title }),
      h("p", { text: body }),
      h("div", { class: "actions" }, no, ok),
    );
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      if (before && before.focus) before.focus();
      resolve(answer);
    };
    ok.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
