// An attempt's result, as its student sees it (also after a reload).
import * as api from "../api.js";
import { errorBox, fmtDate, fmtNumber, fmtPercent, h } from "../dom.js";

export async function render(main, [examId, attemptId], ctx) {
  ctx.title("Result");
  let detail;
  try {
    detail = await api.get(`/student/exams/${examId}`);
  } catch (error) {
    main.append(h("h1", { text: "Result" }), errorBox(error));
    return;
  }
  const attempt = (detail.attempts || []).find((a) => a.attempt_id === attemptId);
  ctx.title(`Result: ${detail.exam.title}`);
  main.append(h("h1", { text: `Result: ${detail.exam.title}` }));
  if (!attempt) {
    main.append(errorBox(new Error("This attempt is not yours, or does not exist.")));
    return;
  }
  const graded = attempt.score !== null && attempt.score !== undefined;
  main.append(
    h(
      "section",
      { class: "card result", "aria-labelledby": "score-h" },
      h("h2", { id: "score-h", text: `Attempt ${attempt.attempt_number}: ${attempt.status.replace("_", " ")}` }),
      graded
        ? h("p", { class: "score" }, h("span", { class: "big", text: `${fmtNumber(attempt.score)} / ${fmtNumber(attempt.max_score)}` }), h("span", { class: "muted", text: ` points (${fmtPercent(attempt.percentage)})` }))
        : h("p", { text: attempt.status === "in_progress" ? "This attempt is still in progress." : "Not graded yet." }),
      h("p", { class: "muted", text: `Started ${fmtDate(attempt.started_at)} · finished ${fmtDate(attempt.finished_at)}` }),
      detail.grade ? h("p", { text: `Your grade on this exam (${detail.grade.grading_method} attempt): ${fmtPercent(detail.grade.percentage)}` }) : null,
    ),
    attempt.status === "in_progress" ? h("p", {}, h("a", { class: "button primary", href: `#/student/exams/${examId}`, text: "Resume the attempt" })) : null,
    h("p", {}, h("a", { href: "#/student", text: "Back to the dashboard" })),
  );
}
