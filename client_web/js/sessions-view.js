// The "My sessions" tab: recent sessions from localStorage with their downloads.

import { renderDownloads } from "./downloads.js";
import { forgetAll, forgetSession, loadSessions } from "./session-history.js";

export class SessionsView {
  /** `onOpen({id, token, title})` shows a session's result. */
  constructor(root, onOpen) {
    this.list = root.querySelector("#sessions-list");
    this.onOpen = onOpen;
    root.querySelector("#sessions-clear").addEventListener("click", () => {
      if (confirm("Forget every session kept in this browser? The tokens cannot be recovered.")) forgetAll();
    });
    window.addEventListener("notestream:sessions", () => this.render());
    window.addEventListener("storage", () => this.render()); // other tabs
    this.render();
  }

  render() {
    const sessions = loadSessions();
    if (!sessions.length) {
      const empty = document.createElement("li");
      empty.className = "empty hint";
      empty.textContent = "No sessions yet — listen live or upload a file.";
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(...sessions.map((s) => this.item(s)));
  }

  item(session) {
    const li = document.createElement("li");
    li.className = "session";
    li.dataset.session = session.id;
    const when = new Date(session.created).toLocaleString();
    const facts = [session.kind === "file" ? "File" : "Live", when];
    if (session.notes !== undefined) facts.push(`${session.notes} notes`);
    if (session.duration !== undefined) facts.push(`${Number(session.duration).toFixed(1)} s`);
    const title = document.createElement("div");
    title.className = "session-title";
    title.innerHTML = "<strong></strong><span class=\"hint\"></span><code></code>";
    title.querySelector("strong").textContent = session.title ?? session.id;
    title.querySelector(".hint").textContent = facts.join(" · ");
    title.querySelector("code").textContent = session.id;
    const downloads = document.createElement("div");
    downloads.className = "downloads";
    renderDownloads(downloads, session.id, session.token, session.urls);
    const open = document.createElement("button");
    open.className = "ghost";
    open.textContent = "Open";
    open.setAttribute("aria-label", `Open ${session.title ?? session.id}`);
    open.addEventListener("click", () => this.onOpen(session));
    const forget = document.createElement("button");
    forget.className = "ghost danger";
    forget.textContent = "Forget";
    forget.setAttribute("aria-label", `Forget ${session.title ?? session.id}`);
    forget.addEventListener("click", () => forgetSession(session.id));
    downloads.append(open, forget);
    li.append(title, downloads);
    return li;
  }
}
