// "Who has read my records": the disclosure log of the calling student.
import * as api from "../api.js";
import { errorBox, fmtDate, h, table } from "../dom.js";

const KINDS = {
  profile: "your profile, metrics and attempts",
  monitoring_events: "an attempt's monitoring timeline",
  analysis: "an integrity analysis of an attempt",
};

export async function render(main, _params, ctx) {
  ctx.title("Who read my records");
  main.append(
    h("h1", { text: "Who has read my records" }),
    h("p", { class: "lead", text: "Every time a teacher or an administrator is shown one of your records, it is written down. This is that list, newest first." }),
  );
  const list = h("div");
  const more = h("button", { type: "button", text: "Show older entries", hidden: true });
  main.append(list, more);
  let before = null;
  const rows = [];
  async function load() {
    more.disabled = true;
    try {
      const page = await api.get("/student/disclosures", { limit: 100, before });
      rows.push(...page);
      before = page.length ? page[page.length - 1].id : before;
      more.hidden = page.length < 100;
      list.replaceChildren(
        table(
          [
            { label: "When", value: (d) => fmtDate(d.occurred_at) },
            { label: "Who", value: (d) => d.viewer_name || "someone no longer known" },
            { label: "Role", value: (d) => d.viewer_role },
            { label: "What", value: (d) => KINDS[d.record_kind] || d.record_kind },
          ],
          rows,
          { empty: "Nobody has been shown your records yet." },
        ),
      );
    } catch (error) {
      list.append(errorBox(error));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  await load();
}
