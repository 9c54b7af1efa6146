// Plays a transcription in the browser: one decaying two-partial voice per note, scheduled just ahead.

const SCHEDULE_AHEAD_S = 0.4;
const TICK_MS = 100;

function frequency(pitch) {
  return 440 * 2 ** ((pitch - 69) / 12);
}

export class NoteSynth {
  constructor() {
    this.context = null;
    this.timer = 0;
    this.voices = new Set();
    this.startedAt = 0; // context time at which piece time `from` sounds
    this.from = 0;
  }

  get playing() {
    return this.timer !== 0;
  }

  /** Piece time (seconds) now sounding, or null when stopped. */
  position() {
    return this.playing ? this.from + (this.context.currentTime - this.startedAt) : null;
  }

  /** Play `notes` ({pitch, onset, offset, velocity}) from `from` seconds; `onEnd` fires after the last. */
  async play(notes, from = 0, onEnd = () => {}) {
    this.stop();
    this.context ??= new AudioContext({ latencyHint: "playback" });
    await this.context.resume();
    this.master ??= this.makeMaster();
    const queue = notes.filter((n) => n.offset > from).sort((a, b) => a.onset - b.onset);
    const end = queue.reduce((m, n) => Math.max(m, n.offset), from);
    this.from = from;
    this.startedAt = this.context.currentTime + 0.05;
    let next = 0;
    const tick = () => {
      const horizon = this.position() + SCHEDULE_AHEAD_S;
      while (next < queue.length && queue[next].onset < horizon) this.voice(queue[next++]);
      if (this.position() > end + 0.5) {
        this.stop();
        onEnd();
      }
    };
    this.timer = setInterval(tick, TICK_MS);
    tick();
  }

  makeMaster() {
    const compressor = this.context.createDynamicsCompressor();
    const gain = this.context.createGain();
    gain.gain.value = 0.7;
    gain.connect(compressor).connect(this.context.destination);
    return gain;
  }

  voice(note) {
    const ctx = this.context;
    const at = this.startedAt + Math.max(0, note.onset - this.from);
    const release = this.startedAt + Math.max(0, note.offset - this.from);
    const peak = 0.04 + 0.14 * ((note.velocity ?? 80) / 127);
    const env = ctx.createGain();
    env.gain.setValueAtTime(0, at);
    env.gain.linearRampToValueAtTime(peak, at + 0.006);
    env.gain.setTargetAtTime(peak * 0.05, at + 0.006, 0.7); // a struck string fades
    env.gain.setTargetAtTime(0, Math.max(release, at + 0.03), 0.06); // damper
    env.connect(this.master);
    const f = frequency(note.pitch);
    const partials = [["triangle", f, 1], ["sine", 2 * f, 0.3]];
    for (const [type, freq, level] of partials) {
      const osc = ctx.createOscillator();
      const mix = ctx.createGain();
      osc.type = type;
      osc.frequency.value = freq;
      mix.gain.value = level;
      osc.connect(mix).connect(env);
      osc.start(at);
      osc.stop(Math.max(release, at + 0.03) + 0.4);
      this.voices.add(osc);
      osc.onended = () => this.voices.delete(osc);
    }
  }

  /** Silence at once. */
  stop() {
    clearInterval(this.timer);
    this.timer = 0;
    for (const osc of this.voices) osc.stop();
    this.voices.clear();
  }
}
