// Finding a person by name or email, to fill a user id field: a search form
// (GET /teacher/colleagues or /teacher/students), its results as buttons;
// choosing one hands {id, full_name, email} to onPick. Used by the exam page
// (granting access, extra time); the id field beside it still takes an id
// typed by hand.
import * as api from "./api.js";
import { errorBox, field, h } from "./dom.js";

/**
 * label: the search field's label; path: the API to ask; noun: "teacher" or
 * "student"; empty: what to say when nobody is found; onPick(person).
 * Answers {el}, a form to place before the form it fills.
 */
export function personSearch({ label, path, noun, empty, onPick }) {
  const input = h("input", { type: "search", autocomplete: "off", maxLength: 200 });
  const button = h("button", { type: "submit", text: `Search ${noun}s` });
  const results = h("div", { "aria-live": "polite" });
  const el = h(
    "form",
    { class: "person-search", role: "search", "aria-label": `Search for a ${noun}` },
    h("div", { class: "inline" }, field(label, input, "Part of a name or an email."), button),
    results,
  );

  function choose(person) {
    results.replaceChildren(h("p", { class: "hint", text: `Chosen: ${person.full_name} (${person.email}).` }));
    onPick(person);
  }

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    results.replaceChildren();
    try {
      const people = await api.get(path, { q: input.value.trim(), limit: 20 });
      if (!people.length) {
        results.replaceChildren(h("p", { class: "empty", text: empty }));
        return;
      }
      results.replaceChildren(
        h("p", { class: "hint", text: `${people.length} ${noun}${people.length === 1 ? "" : "s"} found${people.length === 20 ? " (the first 20: type more to narrow it down)" : ""}.` }),
        h(
          "ul",
          { class: "person-results" },
          people.map((person) =>
            h(
              "li",
              {},
              h("button", {
                type: "button",
                text: `Choose ${person.full_name} (${person.email})`,
                on: { click: () => choose(person) },
              }),
            ),
          ),
        ),
      );
    } catch (error) {
      results.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });

  return { el };
}
