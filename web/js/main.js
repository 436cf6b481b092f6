// The app's shell: the hash router, the navigation, the session.
// Each view is a module of pages/ exporting render(main, params, ctx), which
// may return a cleanup function called when the person leaves the view.

import * as api from "./api.js";
import { clear, errorBox, h } from "./dom.js";

// [pattern, module, public?]. Roles are not checked here: a page asks the
// API, and what the API refuses is what the person is shown.
const ROUTES = [
  [/^\/login$/, "login", true],
  [/^\/register$/, "register", true],
  [/^\/student$/, "student-dashboard"],
  [/^\/student\/disclosures$/, "disclosures"],
  [/^\/student\/exams\/([0-9a-f-]{36})$/, "take-exam"],
  [/^\/student\/exams\/([0-9a-f-]{36})\/result\/([0-9a-f-]{36})$/, "exam-result"],
  [/^\/teacher$/, "teacher-dashboard"],
  [/^\/teacher\/exams\/new$/, "exam-editor"],
  [/^\/teacher\/exams\/([0-9a-f-]{36})$/, "exam-manage"],
  [/^\/teacher\/exams\/([0-9a-f-]{36})\/analytics$/, "exam-analytics"],
  [/^\/teacher\/exams\/([0-9a-f-]{36})\/flagged$/, "flagged"],
  [/^\/teacher\/attempts\/([0-9a-f-]{36})$/, "timeline"],
  [/^\/teacher\/students\/([0-9a-f-]{36})$/, "student-detail"],
  [/^\/admin$/, "admin-users"],
  [/^\/admin\/audit$/, "admin-audit"],
  [/^\/admin\/security$/, "admin-security"],
];

const HOME = { student: "/student", teacher: "/teacher", admin: "/admin" };

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let cleanup = null;
let renderSerial = 0;

export function navigate(path, { replace = false } = {}) {
  const target = `#${path}`;
  if (replace) {
    history.replaceState(null, "", target);
    route();
  } else if (location.hash === target) {
    route();
  } else {
    location.hash = target;
  }
}

function homeOf(user) {
  return HOME[user?.role] || "/login";
}

function renderNav(user) {
  clear(nav);
  if (!user) return;
  const items = {
    student: [["#/student", "Dashboard"], ["#/student/disclosures", "Who read my records"]],
    teacher: [["#/teacher", "Dashboard"], ["#/teacher/exams/new", "New exam"]],
    admin: [
      ["#/admin", "Users"],
      ["#/admin/audit", "Audit trail"],
      ["#/admin/security", "Security events"],
      ["#/teacher", "Exams"],
    ],
  }[user.role] || [];
  const current = location.hash.split("?")[0];
  nav.append(
    h(
      "ul",
      {},
      items.map(([href, text]) =>
        h("li", {}, h("a", { href, "aria-current": current === href ? "page" : null, text })),
      ),
      h(
        "li",
        { class: "who" },
        h("span", { class: "user", text: `${user.full_name} (${user.role})` }),
        h("button", {
          type: "button",
          class: "link",
          text: "Log out",
          on: {
            click: async () => {
              await api.logout();
              navigate("/login");
            },
          },
        }),
      ),
    ),
  );
}

function parseHash() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(1) : "/";
  const [path, query = ""] = raw.split("?");
  return { path, query: new URLSearchParams(query) };
}

async function route() {
  const serial = ++renderSerial;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  const { path, query } = parseHash();
  const user = api.user();
  renderNav(user);
  if (path === "/") {
    navigate(homeOf(user), { replace: true });
    return;
  }
  const found = ROUTES.map(([pattern, name, open]) => [pattern.exec(path), name, open]).find(
    ([match]) => match,
  );
  clear(main);
  if (!found) {
    document.title = "Not found · Veritas";
    main.append(h("h1", { text: "Page not found" }), h("p", {}, h("a", { href: `#${homeOf(user)}`, text: "Go home" })));
    main.focus();
    return;
  }
  const [match, name, open] = found;
  if (!open && !user) {
    navigate(`/login?next=${encodeURIComponent(path)}`, { replace: true });
    return;
  }
  if (open && user && (name === "login" || name === "register")) {
    navigate(homeOf(user), { replace: true });
    return;
  }
  main.append(h("p", { class: "loading", text: "Loading…" }));
  try {
    const page = await import(`./pages/${name}.js`);
    if (serial !== renderSerial) return;
    clear(main);
    const ctx = {
      user,
      query,
      navigate,
      home: homeOf(user),
      title(text) {
        document.title = `${text} · Veritas`;
      },
      isCurrent: () => serial === renderSerial,
    };
    const result = await page.render(main, match.slice(1), ctx);
    if (serial !== renderSerial) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    if (serial !== renderSerial) return;
    clear(main);
    main.append(h("h1", { text: "Something went wrong" }), errorBox(error));
  }
  // Focus moves to the new view's heading, so a screen reader starts there.
  if (serial === renderSerial && !main.contains(document.activeElement)) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    } else {
      main.focus();
    }
  }
}

async function start() {
  document.querySelector(".skip")?.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  try {
    await api.restore();
  } catch (error) {
    clear(main);
    main.append(h("h1", { text: "Veritas" }), errorBox(error));
    return;
  }
  api.onSessionChange((user) => {
    if (!user && !parseHash().path.match(/^\/(login|register)$/)) {
      navigate("/login", { replace: true });
    } else {
      renderNav(user);
    }
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
