// Taking an exam: start (or resume the attempt in progress), every question
// kind, autosave per question with a visible state, a countdown to the
// server's deadline (corrected for our clock's skew), the monitoring module,
// submit with a confirmation, then the result.
import * as api from "../api.js";
import { startMonitoring } from "../../monitor/monitor.js";
import {
  announce, confirmDialog, errorBox, fmtDate, fmtDuration, fmtTime, h, newId,
} from "../dom.js";

const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const WARN_AT_SECONDS = [600, 300, 60, 30];

export async function render(main, [examId], ctx) {
  ctx.title("Exam");
  let detail;
  try {
    detail = await api.get(`/student/exams/${examId}`);
  } catch (error) {
    main.append(h("h1", { text: "Exam" }), errorBox(error));
    return;
  }
  const exam = detail.exam;
  ctx.title(exam.title);
  const running = (detail.attempts || []).find((a) => a.status === "in_progress");
  if (running) return begin(main, examId, exam, ctx);

  // Not started: say what starting means, and let the student choose when.
  const startButton = h("button", { type: "button", class: "primary", text: "Start the exam" });
  const status = h("div");
  const left = exam.attempts_left;
  startButton.disabled = !exam.is_open || left <= 0;
  main.append(
    h("h1", { text: exam.title }),
    exam.description ? h("p", { class: "lead", text: exam.description }) : null,
    h(
      "ul",
      { class: "facts" },
      h("li", { text: `Duration: ${exam.duration_minutes} minutes${exam.extra_minutes ? ` (+${exam.extra_minutes} extra for you)` : ""}` }),
      h("li", { text: `Open from ${fmtDate(exam.opens_at)} to ${fmtDate(exam.closes_at)}` }),
      h("li", { text: `Attempts left: ${left} of ${exam.max_attempts}` }),
      h("li", { text: "Your answers are saved as you go. The timer starts when you press Start and does not stop if you leave." }),
      h("li", { text: "While you work, the page reports when it loses your attention (tab hidden, window left, copy, paste, offline, long pauses). It never records what you type or copy, and takes no picture." }),
    ),
    !exam.is_open ? h("p", { class: "notice", text: "This exam is not open now." }) : null,
    status,
    startButton,
    h("p", {}, h("a", { href: "#/student", text: "Back to the dashboard" })),
  );
  let leave = null;
  let gone = false;
  startButton.addEventListener("click", async () => {
    startButton.disabled = true;
    const cleanup = await begin(main, examId, exam, ctx);
    if (gone && cleanup) cleanup();
    else leave = cleanup;
  });
  return () => {
    gone = true;
    if (leave) leave();
  };
}

async function begin(main, examId, exam, ctx) {
  main.replaceChildren(h("p", { class: "loading", text: "Opening your attempt…" }));
  let attempt;
  try {
    // A new attempt's started_at is the server's clock during this request.
    attempt = await api.post(`/student/exams/${examId}/start`, {}, {
      serverTime: (a) => (a.resumed ? null : a.started_at),
    });
  } catch (error) {
    main.replaceChildren(h("h1", { text: exam.title }), errorBox(error));
    return undefined;
  }
  const leave = new ExamSession(main, exam, attempt, ctx).mount();
  if (!main.contains(document.activeElement)) {
    const heading = main.querySelector("h1");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  return leave;
}

function sameAnswer(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

class ExamSession {
  constructor(main, exam, attempt, ctx) {
    this.main = main;
    this.exam = exam;
    this.attempt = attempt;
    this.ctx = ctx;
    this.questions = [...attempt.questions].sort((a, b) => a.position - b.position);
    this.deadline = new Date(attempt.deadline).getTime();
    this.answers = new Map();
    this.state = new Map(); // question id -> {status, savedAt, message, tries}
    this.inFlight = new Map(); // question id -> Promise
    this.unsent = new Map(); // question id -> answer not yet acknowledged
    this.timers = [];
    this.warned = new Set();
    this.finished = false;
    this.current = 0;
    this.stashKey = `pending.${attempt.attempt_id}`;
    for (const q of this.questions) {
      this.answers.set(q.id, q.answer ?? null);
      this.state.set(q.id, { status: q.answer === null || q.answer === undefined ? "empty" : "saved" });
    }
    // Answers typed before a reload or crash and not yet acknowledged: newer than the server's.
    const kept = api.stash.get(this.stashKey) || {};
    for (const [qid, value] of Object.entries(kept)) {
      if (this.answers.has(qid)) {
        this.answers.set(qid, value);
        this.unsent.set(qid, value);
      }
    }
  }

  mount() {
    const { main, exam, attempt } = this;
    this.ctx.title(`${exam.title} (in progress)`);
    this.clock = h("p", { class: "countdown", role: "timer", "aria-label": "Time left" }, "—");
    this.clockNote = h("span", { class: "visually-hidden", "aria-live": "assertive" });
    this.summary = h("p", { class: "save-summary", "aria-live": "polite" });
    this.navList = h("ol", { class: "qnav" });
    this.questionHost = h("div", { class: "question-host" });
    this.submitButton = h("button", { type: "button", class: "primary", text: "Submit the exam", on: { click: () => this.confirmSubmit() } });
    this.status = h("div");
    main.replaceChildren(
      h(
        "div",
        { class: "exam-head" },
        h("h1", { text: exam.title }),
        h("div", { class: "exam-clock" }, this.clock, this.clockNote),
      ),
      h("p", { class: "muted", text: `Attempt ${attempt.attempt_number} · ends at ${fmtTime(attempt.deadline)}${attempt.resumed ? " · resumed" : ""}` }),
      h("nav", { "aria-label": "Questions" }, this.navList),
      this.questionHost,
      this.summary,
      this.status,
      h("div", { class: "actions" }, this.submitButton),
    );
    this.renderNav();
    this.show(0, false);
    this.tick();
    this.timers.push(setInterval(() => this.tick(), 500));
    this.onOnline = () => this.retryAll();
    window.addEventListener("online", this.onOnline);
    this.monitor = startMonitoring({
      attemptId: attempt.attempt_id,
      getToken: api.getToken,
      now: api.serverNow,
    });
    for (const [qid] of this.unsent) this.save(qid);
    this.updateSummary();
    return () => this.leave();
  }

  leave() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    window.removeEventListener("online", this.onOnline);
    if (this.monitor) this.monitor.stop({ flush: true });
  }

  // --- navigation between questions -----------------------------------------------

  renderNav() {
    this.navButtons = this.questions.map((q, index) => {
      const button = h("button", {
        type: "button",
        class: "qnav-item",
        on: { click: () => this.show(index, true) },
      });
      return button;
    });
    this.navList.replaceChildren(...this.navButtons.map((b) => h("li", {}, b)));
    this.questions.forEach((q) => this.paintNav(q.id));
  }

  paintNav(qid) {
    const index = this.questions.findIndex((q) => q.id === qid);
    const button = this.navButtons[index];
    const st = this.state.get(qid).status;
    const label = { empty: "not answered", saved: "saved", saving: "saving", retrying: "not saved yet, retrying", error: "not saved" }[st];
    button.textContent = String(index + 1);
    button.className = `qnav-item st-${st}${index === this.current ? " current" : ""}`;
    button.setAttribute("aria-label", `Question ${index + 1}, ${label}`);
    if (index === this.current) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
  }

  show(index, focus) {
    this.current = index;
    const q = this.questions[index];
    const headingId = newId("q");
    const stateLine = h("p", { class: "save-state", "aria-live": "polite" });
    this.stateLine = stateLine;
    const body = this.inputFor(q);
    const total = this.questions.length;
    const prev = h("button", { type: "button", text: "Previous question", disabled: index === 0, on: { click: () => this.show(index - 1, true) } });
    const next = h("button", { type: "button", text: "Next question", disabled: index === total - 1, on: { click: () => this.show(index + 1, true) } });
    this.questionHost.replaceChildren(
      h(
        "section",
        { class: "question card", "aria-labelledby": headingId, dataset: { questionId: q.id, kind: q.kind } },
        h("h2", { id: headingId, tabindex: "-1", text: `Question ${index + 1} of ${total}` }),
        h("p", { class: "points muted", text: `${q.points} point${Number(q.points) === 1 ? "" : "s"}` }),
        body,
        stateLine,
      ),
      h("div", { class: "actions" }, prev, next),
    );
    this.paintState(q.id);
    this.questions.forEach((item) => this.paintNav(item.id));
    if (focus) this.questionHost.querySelector("h2").focus();
  }

  inputFor(q) {
    const value = this.answers.get(q.id);
    const name = `answer-${q.id}`;
    const change = (answer) => this.change(q.id, answer);
    const legend = h("legend", { class: "prompt", text: q.prompt });
    switch (q.kind) {
      case "single_choice":
        return h(
          "fieldset",
          {},
          legend,
          q.options.map((option) => {
            const id = newId("opt");
            return h(
              "div",
              { class: "choice" },
              h("input", { type: "radio", id, name, value: option, checked: value === option, on: { change: () => change(option) } }),
              h("label", { for: id, text: option }),
            );
          }),
        );
      case "multiple_choice": {
        const chosen = new Set(Array.isArray(value) ? value : []);
        return h(
          "fieldset",
          {},
          legend,
          h("p", { class: "hint", text: "Choose every answer that applies." }),
          q.options.map((option) => {
            const id = newId("opt");
            return h(
              "div",
              { class: "choice" },
              h("input", {
                type: "checkbox", id, name, value: option, checked: chosen.has(option),
                on: {
                  change: (event) => {
                    if (event.target.checked) chosen.add(option);
                    else chosen.delete(option);
                    change(q.options.filter((o) => chosen.has(o)));
                  },
                },
              }),
              h("label", { for: id, text: option }),
            );
          }),
        );
      }
      case "true_false":
        return h(
          "fieldset",
          {},
          legend,
          [[true, "True"], [false, "False"]].map(([option, text]) => {
            const id = newId("opt");
            return h(
              "div",
              { class: "choice" },
              h("input", { type: "radio", id, name, value: String(option), checked: value === option, on: { change: () => change(option) } }),
              h("label", { for: id, text }),
            );
          }),
        );
      case "numeric": {
        const id = newId("num");
        const problem = h("p", { class: "field-error", id: `${id}-err`, "aria-live": "polite" });
        const input = h("input", {
          type: "text", id, inputMode: "decimal", autocomplete: "off", value: value === null ? "" : String(value),
          "aria-describedby": `${id}-err`,
        });
        input.addEventListener("input", () => {
          const text = input.value.trim().replace(",", ".");
          if (text === "") {
            problem.textContent = "";
            input.removeAttribute("aria-invalid");
            change(null, true);
            return;
          }
          const n = Number(text);
          if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(n)) {
            problem.textContent = "Enter a number, for example 3.14.";
            input.setAttribute("aria-invalid", "true");
            return;
          }
          problem.textContent = "";
          input.removeAttribute("aria-invalid");
          change(n, true);
        });
        return h("div", { class: "field" }, h("p", { class: "prompt", id: `${id}-prompt`, text: q.prompt }), h("label", { for: id, text: "Your answer (a number)" }), input, problem);
      }
      case "short_text":
      default: {
        const id = newId("txt");
        const input = h("textarea", { id, rows: 3, maxLength: 10000, autocomplete: "off", value: value === null ? "" : String(value) });
        input.addEventListener("input", () => change(input.value === "" ? null : input.value, true));
        return h("div", { class: "field" }, h("p", { class: "prompt", text: q.prompt }), h("label", { for: id, text: "Your answer" }), input);
      }
    }
  }

  // --- autosave -----------------------------------------------------------------------

  change(qid, answer, typed = false) {
    if (this.finished) return;
    this.answers.set(qid, answer);
    this.unsent.set(qid, answer);
    this.keepUnsent();
    const st = this.state.get(qid);
    clearTimeout(st.debounce);
    if (typed) {
      st.debounce = setTimeout(() => this.save(qid), 600);
      this.setState(qid, { status: "saving" });
    } else {
      this.save(qid);
    }
  }

  keepUnsent() {
    if (this.unsent.size) api.stash.set(this.stashKey, Object.fromEntries(this.unsent));
    else api.stash.remove(this.stashKey);
  }

  async save(qid) {
    if (this.finished || !this.unsent.has(qid)) return;
    if (this.inFlight.has(qid)) {
      // One save per question at a time, in order: the newest value goes next.
      this.state.get(qid).again = true;
      return;
    }
    const answer = this.unsent.get(qid);
    this.setState(qid, { status: "saving" });
    const work = api
      .put(`/student/attempts/${this.attempt.attempt_id}/answers/${qid}`, { answer }, {
        serverTime: (r) => r.saved_at,
      })
      .then((result) => {
        if (sameAnswer(this.unsent.get(qid), answer)) this.unsent.delete(qid);
        this.keepUnsent();
        this.setState(qid, { status: this.unsent.has(qid) ? "saving" : "saved", savedAt: result.saved_at, tries: 0 });
      })
      .catch((error) => {
        const st = this.state.get(qid);
        const transient = error.offline || error.status === 429 || error.status >= 500 || error.status === 401;
        if (transient) {
          const tries = (st.tries || 0) + 1;
          const wait = error.retryAfter ? error.retryAfter * 1000 : RETRY_MS[Math.min(tries - 1, RETRY_MS.length - 1)];
          this.setState(qid, { status: "retrying", tries, message: error.offline ? "Offline" : error.message });
          clearTimeout(st.retry);
          st.retry = setTimeout(() => this.save(qid), wait);
        } else {
          this.setState(qid, { status: "error", message: error.message });
          if (error.status === 409) this.timeUp(error);
        }
      })
      .finally(() => {
        this.inFlight.delete(qid);
        const st = this.state.get(qid);
        if (st.again && st.status !== "retrying") {
          st.again = false;
          this.save(qid);
        }
      });
    this.inFlight.set(qid, work);
  }

  retryAll() {
    for (const qid of this.unsent.keys()) {
      const st = this.state.get(qid);
      clearTimeout(st.retry);
      st.tries = 0;
      this.save(qid);
    }
  }

  setState(qid, patch) {
    const st = this.state.get(qid);
    Object.assign(st, patch);
    if (patch.status !== "retrying" && patch.status !== "error") st.message = null;
    this.paintState(qid);
    this.paintNav(qid);
    this.updateSummary();
  }

  paintState(qid) {
    if (this.questions[this.current]?.id !== qid || !this.stateLine) return;
    const st = this.state.get(qid);
    const text = {
      empty: "Not answered yet.",
      saving: "Saving…",
      saved: st.savedAt ? `Saved at ${fmtTime(st.savedAt)}.` : "Saved.",
      retrying: `Not saved yet (${st.message || "offline"}): retrying automatically. Your answer is kept on this device.`,
      error: `Not saved: ${st.message}`,
    }[st.status];
    this.stateLine.textContent = text;
    this.stateLine.className = `save-state st-${st.status}`;
    this.stateLine.dataset.state = st.status;
  }

  updateSummary() {
    const values = [...this.state.values()];
    const answered = [...this.answers.values()].filter((v) => v !== null && !(Array.isArray(v) && v.length === 0)).length;
    const retrying = values.filter((s) => s.status === "retrying").length;
    const saving = values.filter((s) => s.status === "saving").length;
    let text = `${answered} of ${this.questions.length} answered.`;
    if (retrying) text += ` ${retrying} waiting for the network: they will be saved when it comes back.`;
    else if (saving) text += " Saving…";
    else text += " All answers saved.";
    if (this.summary.textContent !== text) this.summary.textContent = text;
  }

  // --- the countdown ---------------------------------------------------------------

  tick() {
    const left = this.deadline - api.serverNow();
    this.clock.textContent = left > 0 ? fmtDuration(left) : "Time is up";
    this.clock.classList.toggle("urgent", left < 60_000);
    this.clock.classList.toggle("warning", left < 300_000);
    for (const mark of WARN_AT_SECONDS) {
      if (left <= mark * 1000 && left > (mark - 5) * 1000 && !this.warned.has(mark)) {
        this.warned.add(mark);
        this.clockNote.textContent = mark >= 60 ? `${mark / 60} minutes left.` : `${mark} seconds left.`;
      }
    }
    // At zero, submit (the grace period absorbs the network); if that fails, again every 5 s.
    if (left <= 0 && !this.finished && !this.submitting && Date.now() - (this.autoAt || 0) > 5000) {
      this.autoAt = Date.now();
      this.clockNote.textContent = "Time is up. Your answers are being submitted.";
      this.submit();
    }
  }

  timeUp(error) {
    if (this.finished) return;
    this.status.replaceChildren(errorBox(error));
  }

  // --- submit -------------------------------------------------------------------------

  async confirmSubmit() {
    const answered = [...this.answers.values()].filter((v) => v !== null && !(Array.isArray(v) && v.length === 0)).length;
    const ok = await confirmDialog({
      title: "Submit your answers?",
      body: `You answered ${answered} of ${this.questions.length} questions. You cannot change your answers after submitting.`,
      confirm: "Submit",
      cancel: "Keep working",
    });
    if (ok) await this.submit();
  }

  async submit() {
    if (this.submitting) return;
    this.submitting = true;
    this.submitButton.disabled = true;
    this.status.replaceChildren(h("p", { class: "notice", text: "Submitting…" }));
    // The monitor's buffer goes first (events for a finished attempt are refused);
    // at most a few seconds: it never holds the submit back for long.
    await this.monitor.stop({ flush: true, timeoutMs: 4000 });
    const answers = Object.fromEntries(this.unsent);
    try {
      const result = await api.post(`/student/exams/${this.attempt.attempt_id}/submit`, { answers });
      this.finished = true;
      this.unsent.clear();
      this.keepUnsent();
      this.leave();
      announce("Your exam is submitted.");
      this.ctx.navigate(`/student/exams/${this.attempt.exam_id}/result/${result.attempt_id}`, { replace: true });
    } catch (error) {
      this.submitting = false;
      this.submitButton.disabled = false;
      this.status.replaceChildren(errorBox(error));
      this.status.querySelector("[role=alert]")?.setAttribute("tabindex", "-1");
      this.status.querySelector("[role=alert]")?.focus();
      if (error.status === 409) {
        this.finished = true;
        this.leave();
        this.status.append(h("p", {}, h("a", { href: `#/student/exams/${this.attempt.exam_id}/result/${this.attempt.attempt_id}`, text: "See the result" })));
      } else {
        // Not sent: keep monitoring while the student tries again.
        this.monitor = startMonitoring({ attemptId: this.attempt.attempt_id, getToken: api.getToken, now: api.serverNow });
      }
    }
  }
}
