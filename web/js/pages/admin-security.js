// Admin: security events (logins, failures, lockouts, refresh reuse, ...).
import * as api from "../api.js";
import { errorBox, field, fmtDate, h, table } from "../dom.js";

const KINDS = ["", "login_success", "login_failure", "refresh", "logout", "reuse_detected", "lockout", "role_change"];

export async function render(main, _params, ctx) {
  ctx.title("Security events");
  const kind = h("select", {}, KINDS.map((k) => h("option", { value: k, text: k || "any kind" })));
  const user = h("input", { type: "text", autocomplete: "off" });
  const since = h("input", { type: "datetime-local" });
  const status = h("div");
  const results = h("div");
  const form = h(
    "form",
    { class: "card" },
    h("div", { class: "inline" }, field("Kind", kind), field("User id", user), field("Since", since)),
    h("button", { type: "submit", class: "primary", text: "Show" }),
  );
  async function load() {
    status.replaceChildren();
    try {
      const rows = await api.get("/rpc/get_security_events", {
        kind: kind.value || null,
        user_id: user.value.trim() || null,
        since: since.value ? new Date(since.value).toISOString() : null,
        limit: 200,
      });
      results.replaceChildren(
        table(
          [
            { label: "When", value: (e) => fmtDate(e.occurred_at) },
            { label: "Kind", value: (e) => e.kind },
            { label: "Email", value: (e) => e.email },
            { label: "User id", value: (e) => e.user_id },
            { label: "Address", value: (e) => e.client_addr },
            { label: "Details", value: (e) => (e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : "") },
          ],
          rows,
          { caption: "The 200 newest matching events", empty: "No event matches." },
        ),
      );
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  main.append(h("h1", { text: "Security events" }), form, status, results);
  await load();
}
