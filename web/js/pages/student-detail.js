// A student as their teacher sees them: profile figures and their attempts
// at this teacher's exams.
import * as api from "../api.js";
import { errorBox, fmtDate, fmtNumber, fmtPercent, h, table } from "../dom.js";

function stat(label, value) {
  return h("div", { class: "stat" }, h("dt", { text: label }), h("dd", { text: value }));
}

export async function render(main, [studentId], ctx) {
  ctx.title("Student");
  const heading = h("h1", { text: "Student" });
  main.append(heading);
  let data;
  try {
    data = await api.get(`/teacher/students/${studentId}`);
  } catch (error) {
    main.append(errorBox(error));
    return;
  }
  const s = data.student;
  const m = data.metrics || {};
  heading.textContent = s.full_name;
  ctx.title(s.full_name);
  main.append(
    h("p", { class: "muted", text: `${s.email}${s.student_number ? ` · ${s.student_number}` : ""}${s.is_active ? "" : " · disabled"} · id ${s.id}` }),
    h("dl", { class: "stats" },
      stat("Integrity", s.integrity_score === null ? "—" : fmtNumber(s.integrity_score, 1)),
      stat("Exams taken", fmtNumber(s.exams_taken, 0)),
      stat("Average", fmtPercent(s.average_score)),
      stat("Best", fmtPercent(s.best_score)),
      stat("Flags", fmtNumber(s.flags_count, 0)),
      stat("Trend", m.trend === null || m.trend === undefined ? "—" : `${fmtNumber(m.trend, 1)} / attempt`)),
    h("h2", { text: "Attempts at your exams" }),
    table(
      [
        { label: "Exam", value: (a) => a.exam_title },
        { label: "Attempt", value: (a) => `#${a.attempt_number}` },
        { label: "Status", value: (a) => a.status },
        { label: "Score", value: (a) => (a.score === null ? "—" : `${fmtNumber(a.score)} / ${fmtNumber(a.max_score)}`) },
        { label: "Integrity", value: (a) => (a.analysis ? fmtNumber(a.analysis.integrity_score, 1) : "—"), class: "num" },
        { label: "Review", value: (a) => a.review_status || "—" },
        { label: "Started", value: (a) => fmtDate(a.started_at) },
        { label: "", value: (a) => h("a", { href: `#/teacher/attempts/${a.attempt_id}`, text: "Timeline", "aria-label": `Timeline of ${a.exam_title} attempt ${a.attempt_number}` }) },
      ],
      data.attempts,
      { empty: "No attempt at your exams." },
    ),
  );
}
