// Download links for a finished session: MIDI, MusicXML, SVG, PDF, JSON (token in the query string).

import { sessionUrls, withToken } from "./api.js";

const FORMATS = [
  ["midi", "MIDI", "mid"],
  ["musicxml", "MusicXML", "musicxml"],
  ["svg", "Sheet (SVG)", "svg"],
  ["pdf", "Sheet (PDF)", "pdf"],
  ["json", "Notes (JSON)", "json"],
];

/** Fill `container` with one download link per export of session `id`. */
export function renderDownloads(container, id, token, urls = {}) {
  const all = sessionUrls(id, urls);
  const heading = document.createElement("span");
  heading.className = "downloads-label";
  heading.textContent = "Download";
  const links = FORMATS.map(([key, label, ext]) => {
    const link = document.createElement("a");
    link.className = "button ghost";
    link.href = withToken(all[key], token);
    link.download = `${id}.${ext}`;
    link.dataset.format = key;
    link.textContent = label;
    link.setAttribute("aria-label", `Download ${label} of ${id}`);
    return link;
  });
  container.replaceChildren(heading, ...links);
  container.hidden = false;
}
