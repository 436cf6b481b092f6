// The exam's flagged attempts, most suspicious first, with their review status.
import * as api from "../api.js";
import { errorBox, fmtDate, fmtNumber, h, table } from "../dom.js";

export async function render(main, [examId], ctx) {
  ctx.title("Flagged attempts");
  main.append(h("h1", { text: "Flagged attempts" }));
  let rows;
  try {
    rows = await api.get(`/teacher/exams/${examId}/flagged`);
  } catch (error) {
    main.append(errorBox(error));
    return;
  }
  main.append(
    h("p", { class: "lead", text: "Attempts whose latest integrity analysis is flagged (likelihood of malpractice 0.5 or more), lowest integrity first. A flag is a reason to look, not a verdict: open the timeline to see the evidence, then clear or confirm it." }),
    table(
      [
        { label: "Student", value: (r) => h("a", { href: `#/teacher/students/${r.student_id}`, text: r.student_name || `student ${r.student_id.slice(0, 8)}` }) },
        { label: "Attempt", value: (r) => `#${r.attempt_number} (${r.status})` },
        { label: "Integrity", value: (r) => fmtNumber(r.integrity_score, 1), class: "num" },
        { label: "Likelihood", value: (r) => fmtNumber(r.lmi_score, 2), class: "num" },
        { label: "Flags", value: (r) => (r.flags || []).map((f) => f.label || f.code).join(", ") },
        { label: "Review", value: (r) => h("span", { class: `badge ${r.review_status}`, text: r.review_status }) },
        { label: "Analysed", value: (r) => fmtDate(r.analysed_at) },
        { label: "", value: (r) => h("a", { href: `#/teacher/attempts/${r.attempt_id}`, text: "Timeline and review", "aria-label": `Timeline and review of attempt ${r.attempt_number}` }) },
      ],
      rows,
      { empty: "No attempt of this exam is flagged." },
    ),
    h("p", {}, h("a", { href: `#/teacher/exams/${examId}/analytics`, text: "Back to the analytics" })),
  );
}
