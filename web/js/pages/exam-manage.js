// One exam, for its teacher: publish a draft, edit settings and questions
// (a question added is editable at once), grant another teacher access and
// give a student extra time (each person found by name or email).
import * as api from "../api.js";
import { announce, errorBox, field, fmtDate, h } from "../dom.js";
import { personSearch } from "../person-search.js";
import { questionForm } from "../question-form.js";
import { fromLocalInput, localInput } from "./exam-editor.js";

function ok(text) {
  return h("div", { class: "ok-box", role: "status", text });
}

async function act(status, button, work, done) {
  status.replaceChildren();
  button.disabled = true;
  try {
    const result = await work();
    status.replaceChildren(ok(done(result)));
    announce(done(result));
    return result;
  } catch (error) {
    status.replaceChildren(errorBox(error));
    return null;
  } finally {
    button.disabled = false;
  }
}

export async function render(main, [examId], ctx) {
  ctx.title("Exam");
  let exam;
  try {
    exam = await api.get("/rpc/get_exam", { exam_id: examId });
  } catch (error) {
    main.append(h("h1", { text: "Exam" }), errorBox(error));
    return;
  }
  ctx.title(exam.title);
  const heading = h("h1", { text: exam.title });
  main.append(
    heading,
    ctx.query.get("created") ? ok(`Exam created${exam.published ? " and published" : " as a draft"}.`) : null,
    h("p", { class: "muted", text: `${exam.published ? "Published" : "Draft"} · open ${fmtDate(exam.opens_at)} to ${fmtDate(exam.closes_at)} · ${exam.questions.length} questions, ${exam.max_score} points` }),
    h(
      "p",
      { class: "actions" },
      h("a", { class: "button", href: `#/teacher/exams/${examId}/analytics`, text: "Analytics" }),
      h("a", { class: "button", href: `#/teacher/exams/${examId}/flagged`, text: "Flagged attempts" }),
    ),
  );

  // publish
  if (!exam.published) {
    const status = h("div");
    const button = h("button", { type: "button", class: "primary", text: "Publish the exam" });
    button.addEventListener("click", async () => {
      const done = await act(status, button, () => api.post(`/teacher/exams/${examId}/publish`), () => "Published: students can start it inside its window.");
      if (done) button.hidden = true;
    });
    main.append(h("section", { class: "card" }, h("h2", { text: "Draft" }), h("p", { text: "Students cannot see this exam until it is published." }), button, status));
  }

  // settings
  {
    const title = h("input", { type: "text", value: exam.title, maxLength: 200 });
    const description = h("textarea", { rows: 2, value: exam.description || "" });
    const duration = h("input", { type: "number", min: 1, max: 1440, value: String(exam.duration_minutes) });
    const attempts = h("input", { type: "number", min: 1, max: 100, value: String(exam.max_attempts) });
    const opens = h("input", { type: "datetime-local", value: localInput(new Date(exam.opens_at)) });
    const closes = h("input", { type: "datetime-local", value: localInput(new Date(exam.closes_at)) });
    const status = h("div");
    const save = h("button", { type: "submit", text: "Save the settings" });
    const form = h(
      "form",
      { class: "card" },
      h("h2", { text: "Settings" }),
      field("Title", title),
      field("Description", description),
      h("div", { class: "inline" }, field("Duration (minutes)", duration), field("Attempts allowed", attempts)),
      h("div", { class: "inline" }, field("Opens", opens), field("Closes", closes)),
      status,
      save,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(status, save, () => api.post("/rpc/update_exam", {
        exam_id: examId,
        title: title.value.trim(),
        description: description.value.trim(),
        duration_minutes: Number(duration.value),
        max_attempts: Number(attempts.value),
        opens_at: fromLocalInput(opens.value, "when the exam opens"),
        closes_at: fromLocalInput(closes.value, "when the exam closes"),
      }), (updated) => {
        heading.textContent = updated.title;
        return "Settings saved. Attempts already started keep their deadline.";
      });
    });
    main.append(form);
  }

  // questions: each editable, a new one too as soon as it is added
  const questions = h("section", {}, h("h2", { text: "Questions" }), h("p", { class: "hint", text: "A change applies to attempts started afterwards; attempts already started keep the version they started with." }));
  const addHeading = h("h3", { text: "Add a question" });
  let shown = 0;

  function editor(q) {
    shown += 1;
    const number = shown;
    const status = h("div");
    const form = questionForm(q, { number });
    const save = h("button", { type: "button", text: `Save question ${number}` });
    const remove = h("button", { type: "button", class: "danger", text: `Remove question ${number}` });
    save.addEventListener("click", () => {
      let value;
      try {
        value = form.value();
      } catch (error) {
        status.replaceChildren(errorBox(error));
        return;
      }
      act(status, save, () => api.post("/rpc/update_question", { question_id: q.id, ...value }), () => `Question ${number} saved.`);
    });
    remove.addEventListener("click", async () => {
      const done = await act(status, remove, () => api.post("/rpc/remove_question", { question_id: q.id }), () => `Question ${number} removed.`);
      if (done) {
        form.el.remove();
        save.remove();
        remove.remove();
      }
    });
    form.el.append(h("div", { class: "actions" }, save, remove), status);
    return form;
  }

  exam.questions.forEach((q) => questions.append(editor(q).el));
  {
    const status = h("div");
    const add = h("button", { type: "button", text: "Add this question" });
    let draft = questionForm(null, { number: shown + 1 });
    add.addEventListener("click", async () => {
      let value;
      try {
        value = draft.value();
      } catch (error) {
        status.replaceChildren(errorBox(error));
        return;
      }
      const added = await act(status, add, () => api.post("/rpc/add_question", { exam_id: examId, ...value }), () => `Question ${shown + 1} added; you can edit it above.`);
      if (!added) return;
      // The new question joins the list, editable at once; the form starts afresh.
      const made = editor(added);
      addHeading.before(made.el);
      const fresh = questionForm(null, { number: shown + 1 });
      draft.el.replaceWith(fresh.el);
      draft = fresh;
      draft.el.append(addActions);
      draft.focus();  // ready for the next one; the status says where the new one is
    });
    const addActions = h("div", { class: "actions" }, add, status);
    draft.el.append(addActions);
    questions.append(addHeading, draft.el);
  }
  main.append(questions);

  // access for another teacher: found by name or email, or an id typed by hand
  {
    const teacher = h("input", { type: "text", autocomplete: "off" });
    const status = h("div");
    const grant = h("button", { type: "submit", text: "Grant access" });
    const finder = personSearch({
      label: "Find a teacher",
      path: "/teacher/colleagues",
      noun: "teacher",
      empty: "No other active teacher matches.",
      onPick: (person) => {
        teacher.value = person.id;
        grant.focus();
      },
    });
    const form = h("form", {}, field("The teacher's user id", teacher, "Filled in when you choose a teacher above, or type it. Only the exam's owner or an admin may grant access."), status, grant);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(status, grant, () => api.post(`/teacher/exams/${examId}/permissions`, { teacher_id: teacher.value.trim() }), () => "Access granted.");
    });
    main.append(h("section", { class: "card" }, h("h2", { text: "Give another teacher access" }), finder.el, form));
  }

  // extra time: a student found among those this teacher can see, or an id typed by hand
  {
    const student = h("input", { type: "text", autocomplete: "off" });
    const minutes = h("input", { type: "number", min: 0, max: 1440, value: "15" });
    const status = h("div");
    const set = h("button", { type: "submit", text: "Set extra time" });
    const finder = personSearch({
      label: "Find a student",
      path: "/teacher/students",
      noun: "student",
      empty: "No student of your exams matches. A student appears here once they have started one of your exams; you can still type their id.",
      onPick: (person) => {
        student.value = person.id;
        minutes.focus();
      },
    });
    const form = h("form", {}, h("div", { class: "inline" }, field("The student's user id", student), field("Extra minutes", minutes)), status, set);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(status, set, () => api.post(`/teacher/exams/${examId}/accommodations`, { student_id: student.value.trim(), extra_minutes: Number(minutes.value) }), () => `Extra time set: ${minutes.value} minutes (an attempt in progress gets its new deadline at once).`);
    });
    main.append(h("section", { class: "card" }, h("h2", { text: "Extra time for a student" }), finder.el, form));
  }
}
