// An exam's analytics: figures, charts (score distribution, integrity,
// events by type) and how fresh the figures are.
import * as api from "../api.js";
import { barChart } from "../charts.js";
import { errorBox, fmtAgo, fmtNumber, fmtPercent, fmtTime, h, table } from "../dom.js";

const ANOMALIES = new Set([
  "window_blur", "network_offline", "unusual_pause", "gaze_away", "tab_hidden", "fullscreen_exit",
  "copy", "face_missing", "multiple_faces", "paste", "devtools_open",
]);

function stat(label, value) {
  return h("div", { class: "stat" }, h("dt", { text: label }), h("dd", { text: value }));
}

function figures(caption, rows) {
  return h("details", {}, h("summary", { text: `${caption}: the figures` }), table([{ label: "", value: (r) => r[0] }, { label: "count", value: (r) => String(r[1]), class: "num" }], rows, { caption }));
}

export async function render(main, [examId], ctx) {
  ctx.title("Analytics");
  const heading = h("h1", { text: "Analytics" });
  const body = h("div");
  const refresh = h("button", { type: "button", text: "Reload the figures" });
  main.append(heading, body, h("div", { class: "actions" }, refresh,
    h("a", { class: "button", href: `#/teacher/exams/${examId}/flagged`, text: "Flagged attempts" }),
    h("a", { class: "button", href: `#/teacher/exams/${examId}`, text: "Manage the exam" })));

  async function load() {
    refresh.disabled = true;
    let a;
    try {
      a = await api.get(`/teacher/exams/${examId}/analytics`);
    } catch (error) {
      body.replaceChildren(errorBox(error));
      refresh.disabled = false;
      return;
    }
    refresh.disabled = false;
    heading.textContent = `Analytics: ${a.title}`;
    ctx.title(`Analytics: ${a.title}`);
    const fresh = a.refreshed_at
      ? `Figures include everything up to ${fmtTime(a.refreshed_at)} (${fmtAgo(a.refreshed_at, api.serverNow())}); they are refreshed every few seconds.`
      : "The figures have not been computed yet; they appear within seconds of the first attempt.";
    const histogram = (a.score_histogram || []).map((b) => ({ label: `${b.from}`, value: b.count }));
    const events = Object.entries(a.events_by_type || {})
      .sort((x, y) => y[1] - x[1])
      .map(([type, count]) => ({ label: type.replace(/_/g, " "), value: count, class: ANOMALIES.has(type) ? "anomaly" : "" }));
    // Every analysed attempt (its latest analysis), per tenth of the 0–100 score.
    const integrity = (a.integrity_histogram || []).map((b) => ({ label: `${b.from}`, value: b.count }));
    body.replaceChildren(
      h("p", { class: "freshness", "data-refreshed-at": a.refreshed_at || "", text: fresh }),
      h(
        "dl",
        { class: "stats" },
        stat("Students", fmtNumber(a.students, 0)),
        stat("Attempts", fmtNumber(a.attempts, 0)),
        stat("In progress", fmtNumber(a.in_progress, 0)),
        stat("Submitted", fmtNumber(a.submitted, 0)),
        stat("Expired", fmtNumber(a.expired, 0)),
        stat("Average", fmtPercent(a.average_percentage)),
        stat("Median", fmtPercent(a.median_percentage)),
        stat("Analysed", fmtNumber(a.analysed, 0)),
        stat("Flagged", fmtNumber(a.flagged, 0)),
        stat("Average integrity", a.average_integrity === null ? "—" : fmtNumber(a.average_integrity, 1)),
      ),
      h(
        "div",
        { class: "charts" },
        h("div", {}, barChart({ title: "Score distribution", description: "Graded attempts per band of percentage (the band's lower bound).", bars: histogram }), figures("Score distribution", histogram.map((b) => [`${b.label} %`, b.value]))),
        h("div", {}, barChart({ title: "Integrity distribution", description: `Analysed attempts per band of integrity score (the band's lower bound, 0–100); ${fmtNumber(a.flagged, 0)} of ${fmtNumber(a.analysed, 0)} are flagged.`, bars: integrity }), figures("Integrity distribution", integrity.map((b) => [`${b.label}–${Number(b.label) + 10}`, b.value]))),
        h("div", {}, barChart({ title: "Events by type", description: "Monitoring events of all attempts; anomalies in red.", bars: events, horizontal: true }), figures("Events by type", events.map((b) => [b.label, b.value]))),
      ),
    );
  }
  refresh.addEventListener("click", load);
  await load();
}
