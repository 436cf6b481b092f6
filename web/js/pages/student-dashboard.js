// The student's dashboard: integrity and scores, open exams (start or
// resume), past attempts with their score and status.
import * as api from "../api.js";
import { errorBox, fmtDate, fmtNumber, fmtPercent, h, table } from "../dom.js";

function stat(label, value) {
  return h("div", { class: "stat" }, h("dt", { text: label }), h("dd", { text: value }));
}

export async function render(main, _params, ctx) {
  ctx.title("Dashboard");
  main.append(h("h1", { text: "Your dashboard" }));
  let data;
  try {
    data = await api.get("/student/dashboard");
  } catch (error) {
    main.append(errorBox(error));
    return;
  }
  const p = data.profile || {};
  const m = data.metrics || {};
  main.append(
    h("p", { class: "lead", text: `Welcome, ${p.full_name || ctx.user.full_name}.` }),
    h(
      "section",
      { "aria-labelledby": "stats-h" },
      h("h2", { id: "stats-h", text: "Your figures" }),
      h(
        "dl",
        { class: "stats" },
        stat("Integrity score", p.integrity_score === null ? "—" : `${fmtNumber(p.integrity_score, 1)} / 100`),
        stat("Exams taken", fmtNumber(p.exams_taken, 0)),
        stat("Average score", fmtPercent(p.average_score)),
        stat("Best score", fmtPercent(p.best_score)),
        stat("Attempts", fmtNumber(m.attempts_count, 0)),
        stat("Trend", m.trend === null || m.trend === undefined ? "—" : `${fmtNumber(m.trend, 1)} points per attempt`),
      ),
    ),
  );

  const exams = data.available_exams || [];
  main.append(
    h(
      "section",
      { "aria-labelledby": "exams-h" },
      h("h2", { id: "exams-h", text: "Exams open to you" }),
      table(
        [
          { label: "Exam", value: (e) => h("span", {}, h("strong", { text: e.title }), e.description ? h("span", { class: "muted block", text: e.description }) : null) },
          { label: "Duration", value: (e) => `${e.duration_minutes} min` },
          { label: "Window", value: (e) => `${fmtDate(e.opens_at)} – ${fmtDate(e.closes_at)}` },
          { label: "Attempts", value: (e) => `${e.attempts_used} of ${e.max_attempts}` },
          {
            label: "Action",
            value: (e) => {
              if (e.attempt_in_progress) {
                return h("a", { class: "button primary", href: `#/student/exams/${e.id}`, text: "Resume", "aria-label": `Resume ${e.title}` });
              }
              if (!e.is_open) return h("span", { class: "muted", text: `Opens ${fmtDate(e.opens_at)}` });
              if (e.attempts_used >= e.max_attempts) return h("span", { class: "muted", text: "No attempts left" });
              return h("a", { class: "button", href: `#/student/exams/${e.id}`, text: "Start", "aria-label": `Start ${e.title}` });
            },
          },
        ],
        exams,
        { empty: "No exam is open to you now." },
      ),
    ),
  );

  const attempts = data.recent_attempts || [];
  main.append(
    h(
      "section",
      { "aria-labelledby": "attempts-h" },
      h("h2", { id: "attempts-h", text: "Your recent attempts" }),
      table(
        [
          { label: "Exam", value: (a) => a.exam_title },
          { label: "Attempt", value: (a) => `#${a.attempt_number}` },
          { label: "Status", value: (a) => h("span", { class: `badge ${a.status}`, text: a.status.replace("_", " ") }) },
          { label: "Score", value: (a) => (a.score === null ? "—" : `${fmtNumber(a.score)} / ${fmtNumber(a.max_score)}`) },
          { label: "Percentage", value: (a) => fmtPercent(a.percentage) },
          { label: "Finished", value: (a) => fmtDate(a.finished_at) },
          {
            label: "",
            value: (a) => a.status === "in_progress"
              ? h("a", { href: `#/student/exams/${a.exam_id}`, text: "Resume" })
              : h("a", { href: `#/student/exams/${a.exam_id}/result/${a.attempt_id}`, text: "Details", "aria-label": `Details of ${a.exam_title} attempt ${a.attempt_number}` }),
          },
        ],
        attempts,
        { empty: "You have not taken an exam yet." },
      ),
    ),
  );
}
