// One finished transcription: piano roll, synth playback beside the original audio, notes, sheet music.

import { authHeaders, errorText, getJson, sessionUrls, withToken } from "./api.js";
import { renderDownloads } from "./downloads.js";
import { NoteList } from "./note-list.js";
import { StaticRoll } from "./piano-roll.js";
import { NoteSynth } from "./synth.js";
import { TapTempo } from "./tap-tempo.js";

const MAX_SHEET_PAGES = 30;

export class ResultView {
  constructor(root) {
    this.root = root;
    this.el = (id) => root.querySelector(`#${id}`);
    this.roll = new StaticRoll(this.el("result-roll"));
    this.notes = new NoteList(this.el("result-notes"));
    this.synth = new NoteSynth();
    this.audio = this.el("original-audio");
    this.playButton = this.el("synth-play");
    this.together = this.el("play-together");
    this.session = null;
    this.frame = 0;
    this.hintForm = this.el("sheet-hint");
    this.tapTempo = new TapTempo();
    this.el("sheet-tap").addEventListener("click", () => {
      const bpm = this.tapTempo.tap(performance.now());
      const field = this.el("sheet-tempo"); // its min and max are the server's tempo range
      if (bpm !== null) field.value = String(Math.round(Math.min(Number(field.max), Math.max(Number(field.min), bpm))));
    });
    this.hintForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.reengrave();
    });
    this.playButton.addEventListener("click", () => this.toggleSynth());
    this.roll.onSeek = (t) => this.seek(t);
    this.audio.addEventListener("play", () => this.follow());
    this.audio.addEventListener("seeked", () => this.roll.setPlayhead(this.audio.currentTime));
  }

  /**
   * Show session `id` (already fetched `session` JSON optional). `audioSrc` is the original recording:
   * an object URL of the uploaded file, or the server's stored audio.
   */
  async show({ id, token, title, audioSrc, session }) {
    this.stopSynth();
    this.root.hidden = false;
    this.el("result-title").textContent = title ?? id;
    const data = session ?? (await getJson(sessionUrls(id).json, token));
    this.session = { id, token, notes: data.notes ?? [], pedals: data.pedals ?? [] };
    this.roll.setNotes(this.session.notes, this.session.pedals, data.duration);
    this.roll.setPlayhead(0);
    this.notes.setNotes(this.session.notes);
    this.root.dataset.session = id;
    this.root.dataset.noteCount = String(this.session.notes.length);
    this.session.urls = data.urls;
    this.audio.src = audioSrc ?? withToken(sessionUrls(id, data.urls).audio, token);
    this.hintForm.reset(); // a new piece: the rhythm network's reading until the user says otherwise
    await this.reengrave();
  }

  /**
   * The tempo and time signature the user gave for the sheet, as query parameters (empty: the rhythm
   * network decides both).
   */
  sheetHint() {
    const hint = new URLSearchParams();
    const tempo = this.el("sheet-tempo").value.trim();
    const signature = this.el("sheet-time-signature").value;
    if (tempo) hint.set("tempo", tempo);
    if (signature) hint.set("time_signature", signature);
    return hint;
  }

  /** Engrave the sheet again in the user's tempo and time signature; the sheet downloads follow it. */
  async reengrave() {
    if (!this.session) return;
    const { id, token, urls } = this.session;
    const hint = this.sheetHint();
    renderDownloads(this.el("result-downloads"), id, token, urls, hint);
    await this.loadSheet(sessionUrls(id, urls).svg, token, hint);
  }

  /**
   * Fetch the engraved SVG pages (`?page=N` until the server has no more, with the `hint` parameters) and
   * show them as images: an <img> never runs scripts inside the SVG.
   */
  async loadSheet(url, token, hint = new URLSearchParams()) {
    const sheet = this.el("sheet");
    sheet.dataset.state = "loading";
    sheet.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: "Engraving…" }));
    const pages = [];
    const request = (this.sheetRequest = {}); // a newer show() supersedes this one
    try {
      for (let page = 1; page <= MAX_SHEET_PAGES; page++) {
        const query = new URLSearchParams(hint);
        query.set("page", String(page));
        const response = await fetch(`${url}?${query}`, {
          headers: authHeaders(token), signal: AbortSignal.timeout(120000),
        });
        if (request !== this.sheetRequest) return;
        if (page > 1 && response.status === 404) break; // past the last page
        if (!response.ok) throw new Error(await errorText(response));
        const img = new Image();
        img.alt = `Sheet music of the transcription, page ${page}`;
        img.src = URL.createObjectURL(new Blob([await response.blob()], { type: "image/svg+xml" }));
        pages.push(img);
      }
      sheet.replaceChildren(...pages);
      sheet.dataset.state = "ready";
    } catch (err) {
      if (request !== this.sheetRequest) return;
      sheet.replaceChildren(Object.assign(document.createElement("p"), {
        className: "hint",
        textContent: `No sheet music: ${err.message}`,
      }));
      sheet.dataset.state = "unavailable";
    }
  }

  toggleSynth() {
    if (this.synth.playing) this.stopSynth();
    else this.playSynth(this.roll.playhead ?? 0);
  }

  async playSynth(from) {
    if (!this.session) return;
    if (from >= this.roll.duration - 0.05) from = 0;
    await this.synth.play(this.session.notes, from, () => this.stopSynth());
    this.playButton.setAttribute("aria-pressed", "true");
    this.playButton.textContent = "Stop";
    if (this.together.checked) {
      this.audio.currentTime = from;
      this.audio.play().catch(() => {});
    }
    this.follow();
  }

  stopSynth() {
    this.synth.stop();
    if (this.together.checked) this.audio.pause();
    this.playButton.setAttribute("aria-pressed", "false");
    this.playButton.textContent = "Play transcription";
  }

  /** Move the playhead with whichever is playing: the synth, else the original audio. */
  follow() {
    cancelAnimationFrame(this.frame);
    const tick = () => {
      const t = this.synth.position() ?? (this.audio.paused ? null : this.audio.currentTime);
      if (t === null) return;
      this.roll.setPlayhead(t);
      this.frame = requestAnimationFrame(tick);
    };
    tick();
  }

  seek(seconds) {
    this.roll.setPlayhead(seconds);
    if (this.audio.src) this.audio.currentTime = seconds;
    if (this.synth.playing) this.playSynth(seconds);
  }
}
