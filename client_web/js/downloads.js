// Download links for a finished session: MIDI, MusicXML, SVG, PDF, JSON (token in the query string).

import { sessionUrls, withToken } from "./api.js";

const FORMATS = [
  ["midi", "MIDI", "mid"],
  ["musicxml", "MusicXML", "musicxml"],
  ["svg", "Sheet (SVG)", "svg"],
  ["pdf", "Sheet (PDF)", "pdf"],
  ["json", "Notes (JSON)", "json"],
];
const SHEET_FORMATS = new Set(["musicxml", "svg", "pdf"]);

/**
 * Fill `container` with one download link per export of session `id`; the sheet's links carry `sheetHint`
 * (URLSearchParams: the user's tempo and time signature).
 */
export function renderDownloads(container, id, token, urls = {}, sheetHint = new URLSearchParams()) {
  const all = sessionUrls(id, urls);
  const heading = document.createElement("span");
  heading.className = "downloads-label";
  heading.textContent = "Download";
  const links = FORMATS.map(([key, label, ext]) => {
    const link = document.createElement("a");
    link.className = "button ghost";
    const path = SHEET_FORMATS.has(key) && String(sheetHint) ? `${all[key]}?${sheetHint}` : all[key];
    link.href = withToken(path, token);
    link.download = `${id}.${ext}`;
    link.dataset.format = key;
    link.textContent = label;
    link.setAttribute("aria-label", `Download ${label} of ${id}`);
    return link;
  });
  container.replaceChildren(heading, ...links);
  container.hidden = false;
}
