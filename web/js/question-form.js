// A question's form, for every kind of the contract: used when creating an
// exam and when editing one. value() answers {kind, prompt, options,
// correct, tolerance?, points} or throws an Error naming what to fix.
import { field, h, newId } from "./dom.js";

export const KINDS = [
  ["single_choice", "Single choice"],
  ["multiple_choice", "Multiple choice"],
  ["true_false", "True or false"],
  ["numeric", "Number"],
  ["short_text", "Short text"],
];

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

export function questionForm(question = null, { number = 1, onRemove = null } = {}) {
  const q = question || { kind: "single_choice", prompt: "", options: [], correct: null, points: 1 };
  const kind = h("select", {}, KINDS.map(([value, text]) => h("option", { value, text, selected: value === q.kind })));
  const prompt = h("textarea", { rows: 2, value: q.prompt || "" });
  const points = h("input", { type: "text", inputMode: "decimal", value: String(q.points ?? 1) });
  const options = h("textarea", { rows: 4, value: (q.options || []).join("\n") });
  const correctList = Array.isArray(q.correct) ? q.correct : q.correct === null || q.correct === undefined ? [] : [q.correct];
  const correctText = h("textarea", { rows: 2, value: correctList.map(String).join("\n") });
  const correctBool = h("select", {}, h("option", { value: "true", text: "True", selected: q.correct === true }), h("option", { value: "false", text: "False", selected: q.correct === false }));
  const correctNumber = h("input", { type: "text", inputMode: "decimal", value: typeof q.correct === "number" ? String(q.correct) : "" });
  const tolerance = h("input", { type: "text", inputMode: "decimal", value: q.tolerance === null || q.tolerance === undefined ? "" : String(q.tolerance) });

  const optionsField = field("Options (one per line)", options);
  const correctTextField = field("Correct answer", correctText);
  const correctBoolField = field("Correct answer", correctBool);
  const correctNumberField = field("Correct answer", correctNumber);
  const toleranceField = field("Tolerance (optional)", tolerance, "Answers within this distance of the correct number earn the points.");
  const correctLabel = correctTextField.querySelector("label");
  const correctHintId = newId("hint");
  const correctHint = h("p", { class: "hint", id: correctHintId });
  correctText.setAttribute("aria-describedby", correctHintId);
  correctTextField.append(correctHint);

  function sync() {
    const k = kind.value;
    const choice = k === "single_choice" || k === "multiple_choice";
    optionsField.hidden = !choice;
    correctTextField.hidden = !(choice || k === "short_text");
    correctBoolField.hidden = k !== "true_false";
    correctNumberField.hidden = k !== "numeric";
    toleranceField.hidden = k !== "numeric";
    correctLabel.textContent = k === "multiple_choice" ? "Correct answers (one per line, each one of the options)"
      : k === "short_text" ? "Accepted answers (one per line)" : "Correct answer";
    correctHint.textContent = k === "single_choice" ? "Exactly one of the options, as written above."
      : k === "short_text" ? "Compared ignoring case and extra spaces; punctuation and accents count." : "";
  }
  kind.addEventListener("change", sync);
  sync();

  let legendText = `Question ${number}`;
  const legend = h("legend", { text: legendText });
  const removeButton = onRemove ? h("button", { type: "button", class: "danger", text: `Remove question ${number}`, on: { click: onRemove } }) : null;
  function setNumber(n) {
    legendText = `Question ${n}`;
    legend.textContent = legendText;
    if (removeButton) removeButton.textContent = `Remove question ${n}`;
  }
  const el = h(
    "fieldset",
    { class: "card question-editor" },
    legend,
    field("Kind", kind),
    field("Prompt", prompt),
    optionsField,
    correctTextField,
    correctBoolField,
    correctNumberField,
    toleranceField,
    field("Points", points),
    removeButton,
  );

  function number_(input, what) {
    const text = input.value.trim().replace(",", ".");
    const n = Number(text);
    if (text === "" || !Number.isFinite(n)) throw new Error(`${legendText}: ${what} must be a number.`);
    return n;
  }

  function value() {
    const k = kind.value;
    const out = { kind: k, prompt: prompt.value.trim(), points: number_(points, "points") };
    if (!out.prompt) throw new Error(`${legendText}: write a prompt.`);
    if (k === "single_choice" || k === "multiple_choice") {
      out.options = lines(options.value);
      const chosen = lines(correctText.value);
      out.correct = k === "single_choice" ? chosen[0] ?? "" : chosen;
    } else if (k === "true_false") {
      out.options = [];
      out.correct = correctBool.value === "true";
    } else if (k === "numeric") {
      out.options = [];
      out.correct = number_(correctNumber, "the correct answer");
      if (tolerance.value.trim() !== "") out.tolerance = number_(tolerance, "the tolerance");
    } else {
      out.options = [];
      const accepted = lines(correctText.value);
      out.correct = accepted.length === 1 ? accepted[0] : accepted;
    }
    return out;
  }

  return { el, value, setNumber, focus: () => prompt.focus() };
}
