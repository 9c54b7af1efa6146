// Wires the page: tabs, the live view, uploads, results, sessions, MIDI output.

import { LiveView } from "./live-view.js";
import { MidiOutput } from "./midi-output.js";
import { ResultView } from "./result-view.js";
import { SessionsView } from "./sessions-view.js";
import { UploadView } from "./upload-view.js";

/** ARIA tabs: click or arrow keys switch panels; the selected tab is the only one in the tab order. */
function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const chosen = t === tab;
      t.setAttribute("aria-selected", String(chosen));
      t.tabIndex = chosen ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !chosen;
    }
    history.replaceState(null, "", `#${tab.id.replace("tab-", "")}`);
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      const target = step ? tabs[(i + step + tabs.length) % tabs.length]
        : { Home: tabs[0], End: tabs[tabs.length - 1] }[e.key];
      if (!target) return;
      e.preventDefault();
      target.focus();
      select(target);
    });
  });
  const initial = tabs.find((t) => `#${t.id.replace("tab-", "")}` === location.hash);
  if (initial) select(initial);
  return (name) => select(document.getElementById(`tab-${name}`));
}

function main() {
  const showTab = setUpTabs();
  const midi = new MidiOutput(document.getElementById("midi-output"), document.getElementById("midi-status"));
  const result = new ResultView(document.getElementById("result"));
  const openResult = async (session) => {
    showTab("file");
    const status = document.getElementById("file-status");
    status.classList.remove("error");
    status.textContent = `Loading ${session.title ?? session.id}…`;
    try {
      await result.show(session);
      status.textContent = "";
    } catch (err) {
      status.textContent = `${session.id}: ${err.message}`;
      status.classList.add("error");
    }
  };
  const live = new LiveView(document.getElementById("panel-live"), midi, openResult);
  window.addEventListener("beforeunload", (e) => {
    if (live.running) e.preventDefault(); // leaving mid-session: the browser asks first
  });
  new UploadView(document.getElementById("panel-file"), result);
  new SessionsView(document.getElementById("panel-sessions"), openResult);
  document.body.dataset.ready = "true"; // tests wait for this
}

main();
