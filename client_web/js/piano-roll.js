// Canvas piano rolls: a live waterfall that rises from the keyboard, and a static roll of a whole piece.

import { MAX_PITCH, MIN_PITCH, isBlackKey, keyLayout, pitchColour } from "./pitch.js";

const FRAME_MS = 1000 / 30; // 30 fps is smooth for scrolling notes and halves the drawing cost

/** Keep a canvas's backing store at device pixels; calls `draw` after each resize. */
function fitCanvas(canvas, draw) {
  const resize = () => {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
    canvas.height = Math.max(1, Math.round(canvas.clientHeight * dpr));
    draw();
  };
  new ResizeObserver(resize).observe(canvas);
  resize();
}

/** Notes heard live, drawn above their keys and scrolling upward as time passes. */
export class LiveRoll {
  constructor(canvas, secondsVisible = 6) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.secondsVisible = secondsVisible;
    this.notes = []; // {pitch, onset, offset|null, velocity}
    this.pedals = []; // {onset, offset|null}
    this.open = new Map(); // pitch -> note still sounding
    this.clock = () => 0;
    this.frame = 0;
    this.prunedAt = 0;
    const { layout, whiteCount } = keyLayout();
    this.layout = layout;
    this.whiteCount = whiteCount;
    fitCanvas(canvas, () => this.draw());
  }

  noteOn(pitch, time, velocity) {
    this.noteOff(pitch, time);
    const note = { pitch, onset: time, offset: null, velocity };
    this.notes.push(note);
    this.open.set(pitch, note);
  }

  noteOff(pitch, time) {
    const note = this.open.get(pitch);
    if (note) {
      note.offset = Math.max(time, note.onset);
      this.open.delete(pitch);
    }
  }

  pedal(down, time) {
    const last = this.pedals[this.pedals.length - 1];
    if (down && (!last || last.offset !== null)) this.pedals.push({ onset: time, offset: null });
    if (!down && last && last.offset === null) last.offset = time;
  }

  clear() {
    this.notes = [];
    this.pedals = [];
    this.open.clear();
    this.draw();
  }

  /**
   * Animate with `clock()` giving the stream time (seconds) drawn at the keyboard edge. At most 30 fps,
   * and never more than a fifth of the main thread: a flood of notes must not starve the socket.
   */
  start(clock) {
    this.clock = clock;
    let next = 0;
    const tick = (now) => {
      if (now >= next) {
        const began = performance.now();
        this.draw();
        next = now + Math.max(FRAME_MS, 5 * (performance.now() - began));
      }
      this.frame = requestAnimationFrame(tick);
    };
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(tick);
  }

  /** Freeze the view at the current time. */
  stop() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const frozen = this.clock();
    this.clock = () => frozen;
    this.draw();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    const now = this.clock();
    const pxPerSec = h / this.secondsVisible;
    ctx.clearRect(0, 0, w, h);
    this.drawLanes(w, h);
    const oldest = now - this.secondsVisible;
    const yOf = (t) => h - (now - t) * pxPerSec; // `now` sits on the keyboard; the past rises above it
    if (Math.abs(now - this.prunedAt) > 1) {
      this.prunedAt = now;
      const visible = (span) => span.offset === null || span.offset > oldest - 1;
      this.notes = this.notes.filter(visible); // the rest scrolled away
      this.pedals = this.pedals.filter(visible);
    }
    ctx.fillStyle = "rgba(139, 124, 255, 0.10)";
    for (const p of this.pedals) {
      const top = Math.max(0, yOf(p.onset));
      const bottom = Math.min(h, yOf(p.offset ?? now));
      ctx.fillRect(0, top, w, bottom - top);
    }
    // One path per colour: thousands of notes cost a few dozen fills, not thousands.
    const groups = new Map();
    for (const n of this.notes) {
      const yBottom = yOf(n.offset ?? now);
      if (yBottom < 0) continue;
      const loudness = n.velocity < 50 ? 0 : n.velocity < 90 ? 1 : 2;
      const key = `${n.pitch}:${n.offset === null}:${loudness}`;
      if (!groups.has(key)) groups.set(key, { note: n, loudness, rects: [] });
      const [left, width] = this.layout.get(n.pitch) ?? [0, 0];
      const nw = Math.max(2, (width / this.whiteCount) * w - 2);
      const yTop = yOf(n.onset);
      groups.get(key).rects.push([(left / this.whiteCount) * w + 1, yTop, nw, Math.max(3, yBottom - yTop)]);
    }
    for (const { note, loudness, rects } of groups.values()) {
      ctx.globalAlpha = 0.55 + 0.2 * loudness;
      ctx.fillStyle = pitchColour(note.pitch, note.offset === null ? 70 : 58);
      ctx.beginPath();
      for (const [x, y, rw, rh] of rects) ctx.roundRect(x, y, rw, rh, Math.min(6, rw / 2, rh / 2));
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  drawLanes(w, h) {
    const { ctx } = this;
    ctx.fillStyle = "rgba(255,255,255,0.025)";
    for (let p = MIN_PITCH; p <= MAX_PITCH; p++) {
      if (p % 12 !== 0) continue; // a faint line at every C
      const x = (this.layout.get(p)[0] / this.whiteCount) * w;
      ctx.fillRect(x, 0, Math.max(1, w / 1200), h);
    }
  }
}

/** A whole transcription: time runs left to right, pitch bottom to top; shows a playhead. */
export class StaticRoll {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.notes = [];
    this.pedals = [];
    this.duration = 1;
    this.playhead = null;
    this.onSeek = null;
    canvas.tabIndex = 0;
    canvas.addEventListener("click", (e) => {
      const rect = canvas.getBoundingClientRect();
      this.onSeek?.(((e.clientX - rect.left) / rect.width) * this.duration);
    });
    canvas.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: -5, ArrowRight: 5, Home: -Infinity }[e.key];
      if (step === undefined) return;
      e.preventDefault();
      this.onSeek?.(Math.max(0, Math.min(this.duration, (this.playhead ?? 0) + step)));
    });
    fitCanvas(canvas, () => this.draw());
  }

  setNotes(notes, pedals, duration) {
    this.notes = notes;
    this.pedals = pedals ?? [];
    const end = notes.reduce((m, n) => Math.max(m, n.offset), 0);
    this.duration = Math.max(duration || 0, end, 1);
    const pitches = notes.map((n) => n.pitch);
    this.low = Math.max(MIN_PITCH, Math.min(...pitches, 60) - 3);
    this.high = Math.min(MAX_PITCH, Math.max(...pitches, 72) + 3);
    this.draw();
  }

  setPlayhead(seconds) {
    this.playhead = seconds;
    this.draw();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (this.low === undefined) return;
    const rows = this.high - this.low + 1;
    const rowH = h / rows;
    const xOf = (t) => (t / this.duration) * w;
    for (let p = this.low; p <= this.high; p++) {
      ctx.fillStyle = isBlackKey(p) ? "rgba(255,255,255,0.02)" : "rgba(255,255,255,0.045)";
      ctx.fillRect(0, h - (p - this.low + 1) * rowH, w, rowH - 0.5);
    }
    ctx.fillStyle = "rgba(139, 124, 255, 0.13)";
    for (const s of this.pedals) ctx.fillRect(xOf(s.onset), h - 4, xOf(s.offset) - xOf(s.onset), 4);
    for (const n of this.notes) {
      ctx.fillStyle = pitchColour(n.pitch);
      const y = h - (n.pitch - this.low + 1) * rowH;
      roundRect(ctx, xOf(n.onset), y + 0.5, Math.max(2, xOf(n.offset) - xOf(n.onset)), Math.max(2, rowH - 1), 2);
    }
    if (this.playhead !== null) {
      ctx.fillStyle = "#f5f7fa";
      ctx.fillRect(xOf(this.playhead) - 1, 0, 2, h);
    }
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, Math.max(0, Math.min(r, w / 2, h / 2)));
  ctx.fill();
}
