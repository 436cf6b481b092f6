// Inline SVG bar charts, built with DOM APIs (no library). Each chart has a
// title and a description for screen readers, and a table of its figures
// beside it (charts alone are not accessible).
import { h } from "./dom.js";

/**
 * barChart({title, bars: [{label, value, class?}], unit}) -> <figure>
 * Vertical bars for up to ~12 bars, horizontal bars for more or long labels.
 */
export function barChart({ title, bars, horizontal = false, description = "" }) {
  const max = Math.max(1, ...bars.map((b) => Number(b.value) || 0));
  const svgNs = "svg:";
  let svg;
  if (horizontal) {
    const rowH = 22;
    const labelW = 120;
    const width = 340;
    const height = bars.length * rowH + 10;
    svg = h(`${svgNs}svg`, { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}. ${description}` });
    bars.forEach((bar, i) => {
      const y = 5 + i * rowH;
      const w = ((Number(bar.value) || 0) / max) * (width - labelW - 40);
      svg.append(
        h(`${svgNs}text`, { x: labelW - 6, y: y + 15, "text-anchor": "end" }, bar.label),
        h(`${svgNs}rect`, { class: `bar ${bar.class || ""}`, x: labelW, y: y + 3, width: Math.max(w, 0.5), height: rowH - 6 }),
        h(`${svgNs}text`, { x: labelW + w + 4, y: y + 15 }, String(bar.value)),
      );
    });
  } else {
    const width = 340;
    const height = 200;
    const bottom = 160;
    const slot = (width - 20) / Math.max(1, bars.length);
    svg = h(`${svgNs}svg`, { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}. ${description}` });
    svg.append(h(`${svgNs}line`, { class: "axis", x1: 10, y1: bottom, x2: width - 10, y2: bottom }));
    bars.forEach((bar, i) => {
      const value = Number(bar.value) || 0;
      const barH = (value / max) * (bottom - 25);
      const x = 10 + i * slot + slot * 0.15;
      svg.append(
        h(`${svgNs}rect`, { class: `bar ${bar.class || ""}`, x, y: bottom - barH, width: slot * 0.7, height: Math.max(barH, 0.5) }),
        h(`${svgNs}text`, { x: x + slot * 0.35, y: bottom - barH - 4, "text-anchor": "middle" }, String(value)),
        h(`${svgNs}text`, { x: x + slot * 0.35, y: bottom + 14, "text-anchor": "middle" }, bar.label),
      );
    });
  }
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", {}, h("strong", { text: title }), description ? h("span", { class: "muted block", text: description }) : null),
    svg,
  );
}
