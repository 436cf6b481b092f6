// Register a student account (teachers and admins are created by an admin).
import * as api from "../api.js";
import { errorBox, field, h } from "../dom.js";

export function render(main, _params, ctx) {
  ctx.title("Create an account");
  const name = h("input", { type: "text", name: "full_name", autocomplete: "name", required: true });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password", name: "password", autocomplete: "new-password", required: true,
    minLength: 12, maxLength: 128,
  });
  const status = h("div", { class: "form-status" });
  const submit = h("button", { type: "submit", class: "primary", text: "Create account" });
  const form = h(
    "form",
    { class: "card narrow" },
    field("Full name", name),
    field("Email", email),
    field("Password", password, "12 to 128 characters."),
    status,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    submit.disabled = true;
    try {
      await api.register(email.value.trim(), password.value, name.value.trim());
      ctx.navigate("/student");
    } catch (error) {
      status.append(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h("h1", { text: "Create a student account" }),
    form,
    h("p", {}, "Already registered? ", h("a", { href: "#/login", text: "Log in" })),
  );
}
