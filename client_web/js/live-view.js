// The Live tab: microphone → LiveStream → keyboard, waterfall, note list, MIDI out, readouts.

import { getJson } from "./api.js";
import { renderDownloads } from "./downloads.js";
import { Keyboard } from "./keyboard.js";
import { LiveStream } from "./live-stream.js";
import { Microphone } from "./microphone.js";
import { NoteList } from "./note-list.js";
import { LiveRoll } from "./piano-roll.js";
import { rememberSession } from "./session-history.js";

const READOUT_MS = 200;
const DOM_BATCH_MS = 40;
const LIVE_CHIPS = 400; // the most recent notes stay on screen; the session keeps them all

export class LiveView {
  /** `midi` is the MidiOutput that live events are forwarded to; `onOpenResult(session)` shows a result. */
  constructor(root, midi, onOpenResult) {
    this.el = (id) => root.querySelector(`#${id}`);
    this.midi = midi;
    this.onOpenResult = onOpenResult;
    this.keyboard = new Keyboard(this.el("live-keyboard"));
    this.roll = new LiveRoll(this.el("live-roll"));
    this.notes = new NoteList(this.el("live-notes"), LIVE_CHIPS);
    this.button = this.el("live-toggle");
    this.latencyChoice = this.el("live-latency-choice");
    this.offerLatencies();
    this.button.addEventListener("click", () => (this.running ? this.stop() : this.start()));
    this.running = false;
    this.reset();
  }

  /** Fill the latency selector with the operating points the server offers (its /healthz), fastest first. */
  async offerLatencies() {
    try {
      const health = await getJson("/healthz");
      const offered = Object.entries(health.latencies ?? {}).sort((a, b) => a[1] - b[1]);
      if (!offered.length) return;
      this.latencyChoice.replaceChildren(...offered.map(([name, seconds]) => {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = `${name} (${Math.round(seconds * 1000)} ms)`;
        option.selected = name === health.default_latency;
        return option;
      }));
      this.latencyChoice.disabled = false;
    } catch {
      // an older server without latencies: the selector stays on the server's default
    }
  }

  reset() {
    this.mic = null;
    this.stream = null;
    this.level = 0;
    this.latency = null; // smoothed seconds from a note's start to its arrival here
    this.lastPacket = { wall: performance.now(), seconds: 0 };
    this.lastReadout = 0;
    this.finishing = false;
    this.pending = []; // events not yet shown on the keyboard and in the list
    this.flushTimer = 0;
  }

  status(text, isError = false) {
    const el = this.el("live-status");
    el.textContent = text;
    el.classList.toggle("error", isError);
  }

  setRunning(running, label) {
    this.running = running;
    if (this.latencyChoice.options.length > 1) this.latencyChoice.disabled = running; // chosen per session
    this.button.setAttribute("aria-pressed", String(running));
    this.button.classList.toggle("recording", running);
    this.button.querySelector(".label").textContent = label ?? (running ? "Stop" : "Start listening");
  }

  async start() {
    this.setRunning(true, "Starting…");
    this.button.disabled = true;
    this.notes.clear();
    this.roll.clear();
    this.keyboard.clear();
    this.el("live-downloads").hidden = true;
    try {
      this.status("Opening the microphone…");
      this.mic = new Microphone((pcm, peak) => this.onPacket(pcm, peak));
      await this.mic.open();
      this.stream = new LiveStream(this.mic.sampleRate, {
        onEvent: (msg) => this.onEvent(msg),
        onStatus: (msg) => this.onStatus(msg),
        onFinal: (msg) => this.onFinal(msg),
        onState: (text) => this.status(text),
        onFatal: (message) => this.fail(message),
      }, this.latencyChoice.value || null);
      this.status("Connecting…");
      const ready = await this.stream.connect();
      this.el("live-lookahead").textContent = `${ready.lookahead.toFixed(2)} s`;
      rememberSession({ id: ready.session, token: ready.token, kind: "live", title: "Live session", status: "open" });
      this.roll.start(() => this.displayTime());
      this.setRunning(true);
      this.status(`Listening at ${this.mic.sampleRate / 1000} kHz — play something.`);
    } catch (err) {
      await this.fail(err.message);
    } finally {
      this.button.disabled = false;
    }
  }

  onPacket(pcm, peak) {
    this.stream?.push(pcm);
    this.level = Math.max(peak, this.level * 0.8);
    this.lastPacket = { wall: performance.now(), seconds: this.stream?.capturedSeconds ?? 0 };
    if (this.lastPacket.wall - this.lastReadout > READOUT_MS) {
      this.lastReadout = this.lastPacket.wall;
      this.el("live-level").value = this.level;
      this.showHeard(this.lastPacket.seconds);
    }
  }

  showHeard(seconds) {
    const readout = this.el("live-duration");
    readout.textContent = `${seconds.toFixed(1)} s`;
    readout.dataset.seconds = seconds.toFixed(4);
  }

  /** Stream time drawn at the keyboard edge: captured audio minus the measured latency, smoothed. */
  displayTime() {
    const since = Math.min(0.1, (performance.now() - this.lastPacket.wall) / 1000);
    return this.lastPacket.seconds + since - (this.latency ?? 0);
  }

  /** A decided event: MIDI out and the waterfall at once; the DOM in batches (see `flushEvents`). */
  onEvent(msg) {
    this.midi.send(msg);
    if (msg.type === "note_on") {
      if (!this.finishing) this.measureLatency(msg.time);
      this.roll.noteOn(msg.pitch, msg.time, msg.velocity ?? 80);
    } else if (msg.type === "note_off") {
      this.roll.noteOff(msg.pitch, msg.time);
    } else {
      this.roll.pedal(msg.type === "pedal_on", msg.time);
    }
    this.pending.push(msg);
    this.flushTimer ||= setTimeout(() => this.flushEvents(), DOM_BATCH_MS);
  }

  /** Apply queued events to the keyboard and the note list: one layout however many arrived. */
  flushEvents() {
    this.flushTimer = 0;
    for (const msg of this.pending) {
      if (msg.type === "note_on") {
        this.keyboard.set(msg.pitch, true);
        this.notes.noteOn(msg.pitch, msg.time, msg.velocity);
      } else if (msg.type === "note_off") {
        this.keyboard.set(msg.pitch, false);
        this.notes.noteOff(msg.pitch, msg.time);
      }
    }
    this.pending = [];
    this.el("live-count").textContent = String(this.notes.count);
    const held = this.keyboard.held().sort((a, b) => a - b);
    this.el("live-now").textContent = held.length ? `· now ${held.map((p) => this.notes.speller.name(p)).join(" ")}` : "";
  }

  /** Seconds between a note's start and its arrival here (look-ahead + server + network), smoothed. */
  measureLatency(onset) {
    const heardFor = this.stream.capturedSeconds - onset;
    this.latency = this.latency === null ? heardFor : 0.8 * this.latency + 0.2 * heardFor;
    this.el("live-latency").textContent = `${this.latency.toFixed(2)} s`;
  }

  onStatus(msg) {
    const lag = msg.lag_seconds ?? 0;
    this.el("live-latency").title = `server backlog ${lag.toFixed(2)} s`;
  }

  /** The session is complete: keep it in "My sessions" and offer its downloads. */
  onFinal(msg) {
    clearTimeout(this.flushTimer);
    this.flushEvents();
    const token = this.stream.token;
    rememberSession({ id: msg.session, token, status: "final", notes: msg.notes, duration: msg.duration });
    const downloads = this.el("live-downloads");
    renderDownloads(downloads, msg.session, token, msg.urls);
    const open = document.createElement("button");
    open.className = "ghost";
    open.textContent = "Open result";
    open.addEventListener("click", () => this.onOpenResult({ id: msg.session, token, title: "Live session" }));
    downloads.append(open);
    downloads.dataset.session = msg.session;
    this.status(`Done: ${msg.notes} notes in ${msg.duration.toFixed(1)} s.`);
    if (!this.finishing) this.endedByServer(); // e.g. the session reached the server's length limit
  }

  async endedByServer() {
    this.finishing = true;
    await this.mic?.close();
    this.finishUp();
  }

  async stop() {
    this.finishing = true; // the tail flushed now says nothing about latency
    this.button.disabled = true;
    this.setRunning(true, "Finishing…");
    this.status("Finishing — the last notes are being decided…");
    await this.mic?.close();
    this.showHeard(this.stream.capturedSeconds); // exactly what was sent
    try {
      await this.stream.stop();
    } catch (err) {
      this.status(err.message, true);
    }
    this.finishUp();
  }

  async fail(message) {
    this.stream?.abort();
    await this.mic?.close();
    this.status(message, true);
    this.finishUp();
  }

  finishUp() {
    clearTimeout(this.flushTimer);
    this.flushEvents();
    this.roll.stop();
    this.keyboard.clear();
    this.midi.allNotesOff();
    this.el("live-level").value = 0;
    this.el("live-now").textContent = "";
    this.setRunning(false);
    this.button.disabled = false;
    this.reset();
  }
}
