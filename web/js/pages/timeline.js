// An attempt's monitoring timeline, each flag's evidence (its event_ids)
// highlighted; the CSV export; the review (clear, or confirm with a note).
import * as api from "../api.js";
import { announce, errorBox, field, fmtNumber, fmtTime, h, newId, table } from "../dom.js";

const MAX_PAGES = 20;

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function render(main, [attemptId], ctx) {
  ctx.title("Attempt timeline");
  main.append(h("h1", { text: "Attempt timeline" }));
  const path = `/teacher/attempts/${attemptId}/events`;
  let events = [];
  let analysis = null;
  let truncated = false;
  try {
    let page = await api.getPage(path, { limit: 1000 });
    events = page.data;
    for (let n = 1; page.next && n < MAX_PAGES; n += 1) {
      page = await api.getPage(page.next);
      events = events.concat(page.data);
    }
    truncated = Boolean(page.next);
  } catch (error) {
    main.append(errorBox(error));
    return;
  }
  try {
    analysis = await api.get(`/analysis/behavior/${attemptId}`);
  } catch (error) {
    if (error.status !== 404) main.append(errorBox(error));
  }

  const flags = (analysis?.flags || []).filter((f) => Array.isArray(f.event_ids) && f.event_ids.length);
  const selected = new Set(flags.map((f) => f.code));
  const evidenceOf = (id) => flags.filter((f) => selected.has(f.code) && f.event_ids.includes(id)).map((f) => f.code);
  const tableHost = h("div");
  const summary = h("p", { class: "muted", "aria-live": "polite" });

  function paint() {
    const marked = events.filter((e) => evidenceOf(e.id).length).length;
    summary.textContent = `${events.length} events${truncated ? " (the first pages; download the CSV for all)" : ""}; ${marked} highlighted as evidence of the selected flags.`;
    tableHost.replaceChildren(
      table(
        [
          { label: "Time", value: (e) => fmtTime(e.occurred_at) },
          { label: "Event", value: (e) => e.event_type.replace(/_/g, " "), class: "type" },
          { label: "Anomaly", value: (e) => (e.is_anomaly ? "yes" : "no") },
          { label: "Evidence of", value: (e) => evidenceOf(e.id).join(", ") || "" },
          { label: "Received", value: (e) => fmtTime(e.received_at) },
          { label: "Details", value: (e) => (e.payload && Object.keys(e.payload).length ? JSON.stringify(e.payload) : "") },
        ],
        events,
        {
          caption: "Events, oldest first",
          empty: "No monitoring event was recorded for this attempt.",
          rowClass: (e) => [evidenceOf(e.id).length ? "evidence" : "", e.is_anomaly ? "anomaly" : ""].join(" ").trim() || null,
        },
      ),
    );
  }

  // the analysis and its flags
  const analysisBox = h("section", { class: "card", "aria-labelledby": "analysis-h" }, h("h2", { id: "analysis-h", text: "Integrity analysis" }));
  if (!analysis) {
    analysisBox.append(h("p", { text: "Not analysed yet: the analysis runs within seconds of the submission." }));
  } else {
    analysisBox.append(
      h("p", { text: `Integrity ${fmtNumber(analysis.integrity_score, 1)} / 100 · likelihood of malpractice ${fmtNumber(analysis.lmi_score, 2)} · ${analysis.is_flagged ? "flagged" : "not flagged"} · ${analysis.model}` }),
      analysis.summary ? h("p", { class: "muted", text: analysis.summary }) : null,
    );
    if (flags.length) {
      analysisBox.append(
        h("p", { class: "hint", text: "Each flag's evidence is highlighted in the timeline. Choose which flags to highlight:" }),
        h(
          "ul",
          { class: "flag-list" },
          flags.map((f) => {
            const button = h("button", { type: "button", "aria-pressed": "true", text: f.message || f.label || f.code });
            button.addEventListener("click", () => {
              if (selected.has(f.code)) selected.delete(f.code);
              else selected.add(f.code);
              button.setAttribute("aria-pressed", String(selected.has(f.code)));
              paint();
            });
            return h("li", {}, button, h("span", { class: "muted", text: ` ${f.event_ids.length} event${f.event_ids.length === 1 ? "" : "s"}` }));
          }),
        ),
      );
    }
    const others = (analysis.flags || []).filter((f) => !flags.includes(f));
    if (others.length) analysisBox.append(h("p", { class: "muted", text: `Other flags: ${others.map((f) => f.message || f.label || f.code).join("; ")}` }));
  }

  // CSV export: fetched with the token, offered as a file
  const csvStatus = h("div");
  const csvButton = h("button", { type: "button", text: "Download the timeline (CSV)" });
  csvButton.addEventListener("click", async () => {
    csvButton.disabled = true;
    csvStatus.replaceChildren();
    try {
      const blob = await api.download(path, "text/csv");
      saveBlob(blob, `timeline-${attemptId}.csv`);
      csvStatus.replaceChildren(h("p", { role: "status", text: "The CSV file is downloaded." }));
    } catch (error) {
      csvStatus.replaceChildren(errorBox(error));
    } finally {
      csvButton.disabled = false;
    }
  });

  // review
  const reviewBox = h("section", { class: "card", "aria-labelledby": "review-h" }, h("h2", { id: "review-h", text: "Review" }));
  if (analysis) {
    const name = newId("decision");
    const clearId = newId("d");
    const confirmId = newId("d");
    const cleared = h("input", { type: "radio", name, id: clearId, value: "cleared", checked: true });
    const confirmed = h("input", { type: "radio", name, id: confirmId, value: "confirmed" });
    const note = h("textarea", { rows: 3, maxLength: 10000 });
    const status = h("div");
    const send = h("button", { type: "submit", class: "primary", text: "Save the review" });
    const form = h(
      "form",
      {},
      h(
        "fieldset",
        {},
        h("legend", { text: "Decision" }),
        h("div", { class: "choice" }, cleared, h("label", { for: clearId, text: "Clear the flags (no malpractice)" })),
        h("div", { class: "choice" }, confirmed, h("label", { for: confirmId, text: "Confirm the flags (a note is required)" })),
      ),
      field("Note", note, "Why: what you saw in the evidence. Required to confirm."),
      status,
      send,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.replaceChildren();
      send.disabled = true;
      try {
        const decision = confirmed.checked ? "confirmed" : "cleared";
        const result = await api.post(`/teacher/attempts/${attemptId}/review`, { decision, note: note.value.trim() || null });
        const text = `Review saved: ${result.review_status}.`;
        status.replaceChildren(h("div", { class: "ok-box", role: "status", text }));
        announce(text);
      } catch (error) {
        status.replaceChildren(errorBox(error));
      } finally {
        send.disabled = false;
      }
    });
    reviewBox.append(form);
  } else {
    reviewBox.append(h("p", { text: "An attempt can be reviewed once it has been analysed." }));
  }

  paint();
  main.append(
    analysisBox,
    h("section", { "aria-labelledby": "events-h" }, h("h2", { id: "events-h", text: "Events" }), summary, h("div", { class: "actions" }, csvButton), csvStatus, tableHost),
    reviewBox,
    h("p", {}, h("a", { href: "#/teacher", text: "Back to the dashboard" })),
  );
}
