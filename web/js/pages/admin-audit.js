// Admin: the audit trail, filtered by table, actor and time, newest first.
import * as api from "../api.js";
import { errorBox, field, fmtDate, h, table } from "../dom.js";

const TABLES = ["auth.users", "app.student_profiles", "app.teacher_profiles", "app.exams", "app.questions", "app.teacher_exam_permissions", "app.accommodations", "app.exam_attempts", "app.attempt_answers", "app.behavior_analyses", "app.flag_reviews", "app.performance_metrics", "app.event_types", "app.analyst_settings"];

function changes(entry) {
  const values = entry.operation === "DELETE" ? entry.old_values : entry.new_values;
  if (!values) return "";
  const keys = entry.changed_columns || Object.keys(values);
  return keys.map((k) => `${k}: ${JSON.stringify(values[k])}`).join("; ");
}

export async function render(main, _params, ctx) {
  ctx.title("Audit trail");
  const tableName = h("input", { type: "text", autocomplete: "off", list: "audit-tables" });
  const tableList = h("datalist", { id: "audit-tables" }, TABLES.map((t) => h("option", { value: t })));
  const actor = h("input", { type: "text", autocomplete: "off" });
  const since = h("input", { type: "datetime-local" });
  const status = h("div");
  const results = h("div");
  const more = h("button", { type: "button", text: "Older entries", hidden: true });
  const form = h(
    "form",
    { class: "card" },
    h("div", { class: "inline" }, field("Table", tableName, "e.g. app.exam_attempts"), tableList, field("Actor (user id)", actor), field("Since", since)),
    h("button", { type: "submit", class: "primary", text: "Show" }),
  );
  let rows = [];
  let before = null;
  let filters = {};

  async function load(reset) {
    status.replaceChildren();
    if (reset) {
      rows = [];
      before = null;
      filters = {
        table: tableName.value.trim() || null,
        actor: actor.value.trim() || null,
        since: since.value ? new Date(since.value).toISOString() : null,
      };
    }
    try {
      const page = await api.get("/admin/audit", { ...filters, limit: 100, before });
      rows = rows.concat(page);
      before = page.length ? page[page.length - 1].id : before;
      more.hidden = page.length < 100;
      results.replaceChildren(
        table(
          [
            { label: "#", value: (e) => String(e.id), class: "num" },
            { label: "When", value: (e) => fmtDate(e.occurred_at) },
            { label: "Table", value: (e) => e.table || "—" },
            { label: "Operation", value: (e) => e.operation },
            { label: "Row", value: (e) => (e.row_pk ? Object.values(e.row_pk).join(", ") : "—") },
            { label: "Who", value: (e) => (e.actor_id ? `${e.actor_role} ${e.actor_id}` : `database login ${e.db_user}`) },
            { label: "Request", value: (e) => (e.request_method ? `${e.request_method} ${e.request_path}` : "—") },
            { label: "Changes", value: (e) => changes(e) },
          ],
          rows,
          { caption: `${rows.length} entries, newest first`, empty: "No entry matches." },
        ),
      );
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(true);
  });
  more.addEventListener("click", () => load(false));
  main.append(h("h1", { text: "Audit trail" }), form, status, results, more);
  await load(true);
}
