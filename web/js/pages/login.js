// Log in: email and password; then the page asked for, or the role's home.
import * as api from "../api.js";
import { errorBox, field, h } from "../dom.js";

export function render(main, _params, ctx) {
  ctx.title("Log in");
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password", name: "password", autocomplete: "current-password", required: true,
  });
  const status = h("div", { class: "form-status" });
  const submit = h("button", { type: "submit", class: "primary", text: "Log in" });
  const form = h(
    "form",
    { class: "card narrow", novalidate: false },
    field("Email", email),
    field("Password", password),
    status,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    submit.disabled = true;
    try {
      const user = await api.login(email.value.trim(), password.value);
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("/") ? next : ({ student: "/student", teacher: "/teacher", admin: "/admin" }[user.role] || "/"));
    } catch (error) {
      status.append(errorBox(error));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h("h1", { text: "Log in to Veritas" }),
    form,
    h("p", {}, "New student? ", h("a", { href: "#/register", text: "Create an account" })),
  );
}
