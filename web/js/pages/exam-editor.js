// Creating an exam: its settings and questions of every kind; published at
// once or kept as a draft.
import * as api from "../api.js";
import { errorBox, field, h } from "../dom.js";
import { questionForm } from "../question-form.js";

export function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function fromLocalInput(value, what) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) throw new Error(`Choose ${what}.`);
  return date.toISOString();
}

export function render(main, _params, ctx) {
  ctx.title("New exam");
  const now = new Date();
  const title = h("input", { type: "text", required: true, maxLength: 200 });
  const description = h("textarea", { rows: 2 });
  const duration = h("input", { type: "number", min: 1, max: 1440, value: "30", required: true });
  const opens = h("input", { type: "datetime-local", value: localInput(now), required: true });
  const closes = h("input", { type: "datetime-local", value: localInput(new Date(now.getTime() + 7 * 86400_000)), required: true });
  const attempts = h("input", { type: "number", min: 1, max: 100, value: "1", required: true });
  const grading = h("select", {}, ["highest", "average", "first", "last"].map((m) => h("option", { value: m, text: m })));
  const published = h("input", { type: "checkbox", id: "publish-now", checked: true });
  const forms = [];
  const list = h("div");
  const status = h("div");

  function renumber() {
    forms.forEach((f, index) => f.setNumber(index + 1));
  }
  function addQuestion(question = null) {
    const form = questionForm(question, {
      number: forms.length + 1,
      onRemove: () => {
        forms.splice(forms.indexOf(form), 1);
        form.el.remove();
        renumber();
        addButton.focus();
      },
    });
    forms.push(form);
    list.append(form.el);
    return form;
  }
  const addButton = h("button", { type: "button", text: "Add a question", on: { click: () => addQuestion().focus() } });
  addQuestion();

  const submit = h("button", { type: "submit", class: "primary", text: "Create the exam" });
  const form = h(
    "form",
    {},
    h(
      "fieldset",
      { class: "card" },
      h("legend", { text: "Settings" }),
      field("Title", title),
      field("Description", description),
      h(
        "div",
        { class: "inline" },
        field("Duration (minutes)", duration),
        field("Attempts allowed", attempts),
        field("Grade from the attempts", grading),
      ),
      h("div", { class: "inline" }, field("Opens", opens), field("Closes", closes)),
      h("div", { class: "choice" }, published, h("label", { for: "publish-now", text: "Publish now (students can start it inside its window)" })),
    ),
    h("h2", { text: "Questions" }),
    list,
    h("div", { class: "actions" }, addButton),
    status,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    let body;
    try {
      body = {
        title: title.value.trim(),
        description: description.value.trim(),
        duration_minutes: Number(duration.value),
        opens_at: fromLocalInput(opens.value, "when the exam opens"),
        closes_at: fromLocalInput(closes.value, "when the exam closes"),
        max_attempts: Number(attempts.value),
        grading_method: grading.value,
        published: published.checked,
        questions: forms.map((f) => f.value()),
      };
      if (!body.title) throw new Error("Give the exam a title.");
      if (body.questions.length === 0) throw new Error("Add at least one question.");
    } catch (error) {
      status.replaceChildren(errorBox(error));
      return;
    }
    submit.disabled = true;
    try {
      const exam = await api.post("/teacher/exams", body);
      ctx.navigate(`/teacher/exams/${exam.id}?created=1`);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  main.append(h("h1", { text: "New exam" }), form);
}
