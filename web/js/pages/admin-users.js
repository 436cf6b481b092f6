// Admin: create users of any role (integration accounts included), disable
// and re-enable them. The API has no list of users; the list here is rebuilt
// from the audit trail of auth.users (every insert and update of a user).
import * as api from "../api.js";
import { announce, errorBox, field, fmtDate, h, table } from "../dom.js";

const ROLES = ["student", "teacher", "admin", "integration"];

async function knownUsers() {
  const users = new Map();
  let before = null;
  const entries = [];
  for (let page = 0; page < 20; page += 1) {
    const rows = await api.get("/admin/audit", { table: "auth.users", limit: 1000, before });
    entries.push(...rows);
    if (rows.length < 1000) break;
    before = rows[rows.length - 1].id;
  }
  for (const entry of entries.reverse()) {
    const id = entry.row_pk?.id;
    if (!id) continue;
    if (entry.operation === "DELETE") users.delete(id);
    else users.set(id, { ...(users.get(id) || {}), ...(entry.new_values || {}), id });
  }
  return [...users.values()].sort((a, b) => String(a.email).localeCompare(String(b.email)));
}

export async function render(main, _params, ctx) {
  ctx.title("Users");
  main.append(h("h1", { text: "Users" }));

  // create
  const email = h("input", { type: "email", autocomplete: "off", required: true });
  const name = h("input", { type: "text", autocomplete: "off", required: true });
  const role = h("select", {}, ROLES.map((r) => h("option", { value: r, text: r })));
  const department = h("input", { type: "text", autocomplete: "off" });
  const password = h("input", { type: "password", autocomplete: "new-password", required: true, minLength: 12, maxLength: 128 });
  const createStatus = h("div");
  const create = h("button", { type: "submit", class: "primary", text: "Create the user" });
  const form = h(
    "form",
    { class: "card" },
    h("h2", { text: "Create a user" }),
    h("div", { class: "inline" }, field("Email", email), field("Full name", name)),
    h("div", { class: "inline" }, field("Role", role), field("Department (optional)", department)),
    field("Initial password", password, "12 to 128 characters; give it to the person through a safe channel."),
    createStatus,
    create,
  );

  const filter = h("input", { type: "search", autocomplete: "off" });
  const listHost = h("div");
  let users = [];

  function paint() {
    const q = filter.value.trim().toLowerCase();
    const shown = users.filter((u) => !q || `${u.email} ${u.full_name} ${u.role}`.toLowerCase().includes(q));
    listHost.replaceChildren(
      table(
        [
          { label: "Email", value: (u) => u.email },
          { label: "Name", value: (u) => u.full_name },
          { label: "Role", value: (u) => u.role },
          { label: "Status", value: (u) => (u.is_active === false ? "disabled" : "active") },
          { label: "Created", value: (u) => fmtDate(u.created_at) },
          { label: "Id", value: (u) => h("code", { text: u.id }) },
          {
            label: "",
            value: (u) => {
              const active = u.is_active !== false;
              const button = h("button", { type: "button", class: active ? "danger" : "", text: active ? "Disable" : "Enable", "aria-label": `${active ? "Disable" : "Enable"} ${u.email}` });
              button.addEventListener("click", async () => {
                button.disabled = true;
                try {
                  const result = await api.post(`/admin/users/${u.id}/active`, { active: !active });
                  Object.assign(u, result);
                  announce(`${u.email} is now ${u.is_active ? "active" : "disabled"}.`);
                  paint();
                  listHost.querySelector(`[aria-label$="${CSS.escape(u.email)}"]`)?.focus();
                } catch (error) {
                  button.disabled = false;
                  button.after(errorBox(error));
                }
              });
              return button;
            },
          },
        ],
        shown,
        { caption: `${shown.length} of ${users.length} users`, empty: "No user matches." },
      ),
    );
  }
  filter.addEventListener("input", paint);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    createStatus.replaceChildren();
    create.disabled = true;
    try {
      const user = await api.post("/admin/users", {
        email: email.value.trim(), full_name: name.value.trim(), role: role.value,
        department: department.value.trim() || null, password: password.value,
      });
      const text = `Created ${user.email} (${user.role}).`;
      createStatus.replaceChildren(h("div", { class: "ok-box", role: "status", text }));
      password.value = "";
      users = users.filter((u) => u.id !== user.id).concat([{ is_active: true, ...user }]);
      paint();
    } catch (error) {
      createStatus.replaceChildren(errorBox(error));
    } finally {
      create.disabled = false;
    }
  });

  main.append(form, h("h2", { text: "All users" }), h("p", { class: "hint", text: "Rebuilt from the audit trail of user records." }), field("Find a user", filter), listHost);
  try {
    users = await knownUsers();
    paint();
  } catch (error) {
    listHost.replaceChildren(errorBox(error));
  }
}
