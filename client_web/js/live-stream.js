// The live WebSocket protocol (docs/protocol.md): start → ready → PCM frames ⇄ note events → stop → final.
// Keeps the audio the server has not acknowledged yet (at most RETAIN_SECONDS), so a dropped
// connection resumes where the server left off, with no gap and no repeated events.

import { streamUrl } from "./api.js";

const RETAIN_SECONDS = 60;
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const READY_TIMEOUT_MS = 10000;
const FINAL_TIMEOUT_MS = 120000; // the server first works through any backlog

export class LiveStream {
  /**
   * `handlers`: onEvent(msg) for note_on/note_off/pedal_on/pedal_off, onReady(msg), onStatus(msg),
   * onFinal(msg) when the session is complete (after stop(), or ended by the server),
   * onState(text) for connection changes, onFatal(message) when the stream cannot go on.
   */
  constructor(sampleRate, handlers, latency = null) {
    this.sampleRate = sampleRate;
    this.handlers = handlers;
    this.latency = latency; // a name from /healthz "latencies" (e.g. "low"), or null: the server's default
    this.samplesCaptured = 0;
    this.retained = []; // [{start, pcm}] oldest first
    this.ws = null;
    this.ready = false;
    this.session = null;
    this.token = null;
    this.stopping = null; // {resolve, reject} once stop() was called
    this.finished = false;
    this.attempt = 0;
    this.lastSeq = 0; // seq of the last event received: a resume asks only for later ones
  }

  /** Seconds of audio the microphone has produced so far (the stream's clock). */
  get capturedSeconds() {
    return this.samplesCaptured / this.sampleRate;
  }

  /** Open the connection; resolves with the server's `ready` message. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(streamUrl(this.session));
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      this.ready = false;
      const timer = setTimeout(() => {
        reject(new Error("The server did not answer the stream request in time."));
        ws.close();
      }, READY_TIMEOUT_MS);
      ws.onopen = () => ws.send(JSON.stringify(this.startMessage()));
      ws.onmessage = (e) => {
        if (typeof e.data !== "string") return;
        const msg = JSON.parse(e.data);
        if (msg.type === "ready") {
          clearTimeout(timer);
          this.onReady(msg);
          resolve(msg);
        } else if (!this.ready && (msg.type === "busy" || msg.type === "error")) {
          clearTimeout(timer);
          this.finished = true;
          reject(new Error(describeRefusal(msg)));
        } else {
          this.onMessage(msg);
        }
      };
      ws.onclose = (e) => {
        clearTimeout(timer);
        if (!this.ready && !this.session) reject(new Error(`Could not connect to the server (${e.code}).`));
        this.onClose(e);
      };
    });
  }

  startMessage() {
    const msg = { type: "start", sample_rate: this.sampleRate, encoding: "pcm_s16le", channels: 1 };
    if (this.session) Object.assign(msg, { session: this.session, token: this.token, after_seq: this.lastSeq });
    else if (this.latency) msg.latency = this.latency;
    return msg;
  }

  onReady(msg) {
    this.session = msg.session;
    this.token = msg.token ?? this.token;
    this.ready = true;
    this.attempt = 0;
    this.sendFrom(msg.audio_frames ?? Math.round((msg.audio_seconds ?? 0) * this.sampleRate));
    if (this.stopping) this.ws.send(JSON.stringify({ type: "stop" })); // stop() came while reconnecting
    this.handlers.onReady?.(msg);
  }

  /** Add one packet of microphone PCM; it is sent now or after (re)connection. */
  push(pcm) {
    this.retained.push({ start: this.samplesCaptured, pcm });
    this.samplesCaptured += pcm.length;
    this.discardBefore(this.samplesCaptured - RETAIN_SECONDS * this.sampleRate);
    if (this.ready && !this.stopping) this.ws.send(pcm);
  }

  /** Forget audio that ends before frame `frame` (acknowledged by the server, or too old to keep). */
  discardBefore(frame) {
    while (this.retained.length && this.retained[0].start + this.retained[0].pcm.length <= frame) {
      this.retained.shift();
    }
  }

  /** Send retained audio from sample `from` on (the server's count of what it already has). */
  sendFrom(from) {
    const first = this.retained[0];
    if (first && from < first.start) {
      this.fail("The connection was lost for too long; the audio in between is gone. Start again.");
      return;
    }
    for (const { start, pcm } of this.retained) {
      if (start + pcm.length <= from) continue;
      this.ws.send(from > start ? pcm.subarray(from - start) : pcm);
    }
  }

  onMessage(msg) {
    if (msg.seq) this.lastSeq = Math.max(this.lastSeq, msg.seq);
    if (msg.type === "status") {
      if (msg.audio_frames) this.discardBefore(msg.audio_frames);
      this.handlers.onStatus?.(msg);
    } else if (msg.type === "final") {
      this.finished = true;
      this.handlers.onFinal?.(msg);
      this.stopping?.resolve(msg);
    } else if (msg.type === "error") {
      if (this.finished) {
        this.handlers.onState?.(msg.message); // session_too_long / server_shutdown after `final`
        return;
      }
      this.fail(msg.message || msg.code);
    } else if (msg.type === "note_on" || msg.type === "note_off" || msg.type.startsWith("pedal_")) {
      this.handlers.onEvent?.(msg);
    }
  }

  onClose(event) {
    this.ready = false;
    if (this.finished) return;
    if (this.stopping) {
      this.stopping.reject(new Error(`The connection closed before the final result (${event.code}).`));
      return;
    }
    if (!this.session) return; // never got going: connect() already reported it
    const delay = RECONNECT_DELAYS_MS[this.attempt++];
    if (delay === undefined) {
      this.fail("The connection to the server was lost and could not be restored.");
      return;
    }
    this.handlers.onState?.(`Connection lost — reconnecting (try ${this.attempt})…`);
    setTimeout(() => {
      if (this.finished) return;
      this.connect().then(
        () => this.handlers.onState?.("Reconnected; resumed where the server left off."),
        () => {},
      );
    }, delay);
  }

  fail(message) {
    this.finished = true;
    this.ws?.close(1000);
    this.stopping?.reject(new Error(message));
    this.handlers.onFatal?.(message);
  }

  /** Ask the server to flush; resolves with its `final` message (ids, note count, download URLs). */
  stop() {
    if (this.finished) return Promise.reject(new Error("The stream has already ended."));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("The server did not finish in time.")), FINAL_TIMEOUT_MS);
      this.stopping = {
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      if (this.ready) this.ws.send(JSON.stringify({ type: "stop" }));
    });
  }

  /** Drop the connection without a final result (page leaving, errors). */
  abort() {
    this.finished = true;
    this.ws?.close(1000);
  }
}

function describeRefusal(msg) {
  if (msg.type === "busy") {
    return `The server is busy with other streams — try again in ${Math.ceil(msg.retry_after ?? 5)} s.`;
  }
  return msg.message || `The server refused the stream (${msg.code}).`;
}
