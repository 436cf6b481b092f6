// Admin: the users (GET /admin/users: filtered by role, status and a search
// on name and email, by email, more on demand), created (integration
// accounts included), disabled and re-enabled.
import * as api from "../api.js";
import { announce, errorBox, field, fmtDate, h, table } from "../dom.js";

const ROLES = ["student", "teacher", "admin", "integration"];
const PAGE = 100;

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

  // the list: filters, one page at a time
  const search = h("input", { type: "search", autocomplete: "off" });
  const roleFilter = h("select", {}, h("option", { value: "", text: "any role" }), ROLES.map((r) => h("option", { value: r, text: r })));
  const statusFilter = h("select", {}, h("option", { value: "", text: "active or disabled" }), h("option", { value: "true", text: "active" }), h("option", { value: "false", text: "disabled" }));
  const filters = h(
    "form",
    { class: "card", role: "search", "aria-label": "Users" },
    h("div", { class: "inline" }, field("Find a user", search, "Part of a name or an email."), field("Kind of account", roleFilter), field("Status", statusFilter)),
    h("button", { type: "submit", text: "Show" }),
  );
  const listHost = h("div");
  const listStatus = h("div");
  const more = h("button", { type: "button", text: "More users", hidden: true });
  let users = [];
  let next = null;

  function paint() {
    listHost.replaceChildren(
      table(
        [
          { label: "Email", value: (u) => u.email },
          { label: "Name", value: (u) => u.full_name },
          { label: "Role", value: (u) => u.role },
          { label: "Department", value: (u) => u.department },
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
        users,
        { caption: `${users.length} ${users.length === 1 ? "user" : "users"} shown${next ? " (more below)" : ""}, by email`, empty: "No user matches." },
      ),
    );
    more.hidden = !next;
  }

  async function load(reset) {
    listStatus.replaceChildren();
    more.disabled = true;
    try {
      const page = reset
        ? await api.getPage("/admin/users", {
          q: search.value.trim(), role: roleFilter.value, active: statusFilter.value, limit: PAGE,
        })
        : await api.getPage(next);
      users = reset ? page.data : users.concat(page.data);
      next = page.next;
      paint();
    } catch (error) {
      listStatus.replaceChildren(errorBox(error));
    } finally {
      more.disabled = false;
    }
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load(true);
  });
  more.addEventListener("click", () => load(false));

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
      // Show the new user: the list, searched for them.
      search.value = user.email;
      roleFilter.value = "";
      statusFilter.value = "";
      await load(true);
    } catch (error) {
      createStatus.replaceChildren(errorBox(error));
    } finally {
      create.disabled = false;
    }
  });

  main.append(form, h("h2", { text: "All users" }), filters, listStatus, listHost, more);
  await load(true);
}
