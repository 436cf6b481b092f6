// The teacher's dashboard: alerts for new flags, the exams, a summary.
import * as api from "../api.js";
import { errorBox, fmtAgo, fmtDate, fmtNumber, fmtPercent, h, table } from "../dom.js";

function stat(label, value) {
  return h("div", { class: "stat" }, h("dt", { text: label }), h("dd", { text: value }));
}

export async function render(main, _params, ctx) {
  ctx.title("Teacher dashboard");
  main.append(h("h1", { text: "Your exams" }));
  let data;
  try {
    data = await api.get("/teacher/dashboard");
  } catch (error) {
    main.append(errorBox(error));
    return;
  }
  const s = data.summary || {};
  main.append(
    h("p", { class: "freshness", text: data.refreshed_at ? `Counts as of ${fmtAgo(data.refreshed_at, api.serverNow())}.` : "Counts not computed yet." }),
    h("dl", { class: "stats" },
      stat("Exams", fmtNumber(s.exams, 0)),
      stat("Attempts", fmtNumber(s.attempts, 0)),
      stat("Submitted", fmtNumber(s.submitted, 0)),
      stat("Flagged", fmtNumber(s.flagged, 0)),
      stat("To review", fmtNumber(s.pending_reviews, 0))),
    h("p", { class: "actions" }, h("a", { class: "button primary", href: "#/teacher/exams/new", text: "Create an exam" })),
    h(
      "section",
      { "aria-labelledby": "alerts-h" },
      h("h2", { id: "alerts-h", text: "New flags to review" }),
      table(
        [
          { label: "Student", value: (a) => h("a", { href: `#/teacher/students/${a.student_id}`, text: a.student_name }) },
          { label: "Exam", value: (a) => a.exam_title },
          { label: "Integrity", value: (a) => fmtNumber(a.integrity_score, 1), class: "num" },
          { label: "Likelihood", value: (a) => fmtNumber(a.lmi_score, 2), class: "num" },
          { label: "Flags", value: (a) => fmtNumber(a.flags_count, 0), class: "num" },
          { label: "Flagged", value: (a) => fmtDate(a.flagged_at) },
          { label: "", value: (a) => h("a", { href: `#/teacher/attempts/${a.attempt_id}`, text: "Review", "aria-label": `Review ${a.student_name}'s attempt at ${a.exam_title}` }) },
        ],
        data.alerts,
        { empty: "No flag waits for a review." },
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "exams-h" },
      h("h2", { id: "exams-h", text: "Exams" }),
      table(
        [
          { label: "Exam", value: (e) => h("a", { href: `#/teacher/exams/${e.id}`, text: e.title }) },
          { label: "Status", value: (e) => `${e.published ? (e.is_open ? "open" : "published") : "draft"}${e.owned ? "" : " (shared with you)"}` },
          { label: "Window", value: (e) => `${fmtDate(e.opens_at)} – ${fmtDate(e.closes_at)}` },
          { label: "Attempts", value: (e) => fmtNumber(e.attempts, 0), class: "num" },
          { label: "Average", value: (e) => fmtPercent(e.average_percentage), class: "num" },
          { label: "Flagged", value: (e) => fmtNumber(e.flagged, 0), class: "num" },
          { label: "To review", value: (e) => fmtNumber(e.pending_reviews, 0), class: "num" },
          { label: "", value: (e) => h("span", {}, h("a", { href: `#/teacher/exams/${e.id}/analytics`, text: "Analytics", "aria-label": `Analytics of ${e.title}` }), " · ", h("a", { href: `#/teacher/exams/${e.id}/flagged`, text: "Flagged", "aria-label": `Flagged attempts of ${e.title}` })) },
        ],
        data.exams,
        { empty: "You have no exam yet." },
      ),
    ),
  );
}
