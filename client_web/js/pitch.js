// MIDI pitch facts shared by every view: names, key colours, the piano's range.

export const MIN_PITCH = 21; // A0
export const MAX_PITCH = 108; // C8
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const BLACK = new Set([1, 3, 6, 8, 10]);

/** 60 -> "C4" (scientific pitch notation, as the server names notes). */
export function noteName(pitch) {
  return `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

// Albrecht-Shanahan major and minor pitch-class profiles, tonic first (as score/key.py uses them).
const MAJOR = [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.08, 0.008, 0.081];
const MINOR = [0.22, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052];
const STEPS_ON_FIFTHS = "FCGDAEB";
const MAX_WEIGHT_S = 2;

function correlation(a, b) {
  const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;
  const ma = mean(a), mb = mean(b);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/** Key signature in fifths and mode of the profile that best fits duration-weighted pitch classes. */
export function estimateKey(weights) {
  let best = { r: -2, fifths: 0, mode: "major" };
  for (const [mode, profile] of [["major", MAJOR], ["minor", MINOR]]) {
    for (let tonic = 0; tonic < 12; tonic++) {
      const rotated = profile.map((_, i) => profile[(i - tonic + 12) % 12]);
      const r = correlation(weights, rotated);
      const major = mode === "major" ? tonic : (tonic + 3) % 12;
      let fifths = (major * 7) % 12;
      if (fifths > 5) fifths -= 12; // Gb (6 flats) over F#
      if (r > best.r) best = { r, fifths, mode };
    }
  }
  return { fifths: best.fifths, mode: best.mode };
}

/** 63 -> "Eb4" in a flat key, "D#4" in a sharp one: the pitch's place on the line of fifths nearest the key. */
export function spelledName(pitch, key) {
  const centre = key.fifths + (key.mode === "minor" ? 2.5 : 1.9);
  const base = ((pitch % 12) * 7) % 12;
  let position = base;
  for (const k of [-2, -1, 0, 1]) {
    if (Math.abs(base + 12 * k - centre) < Math.abs(position - centre)) position = base + 12 * k;
  }
  const step = STEPS_ON_FIFTHS[(((position + 1) % 7) + 7) % 7];
  const alter = Math.floor((position + 1) / 7);
  const octave = Math.floor((pitch - alter) / 12) - 1;
  return step + (alter > 0 ? "#".repeat(alter) : "b".repeat(-alter)) + octave;
}

/** The key of the notes heard so far, and note names spelled in it (E♭ in E♭ major). */
export class KeySpeller {
  constructor() {
    this.reset();
  }

  reset() {
    this.weights = new Array(12).fill(0);
    this.key = { fifths: 0, mode: "major" };
  }

  /** Count a note `seconds` long (capped, so one pedal point cannot decide) and re-estimate the key. */
  hear(pitch, seconds) {
    this.weights[pitch % 12] += Math.min(Math.max(seconds, 0), MAX_WEIGHT_S);
    this.key = estimateKey(this.weights);
  }

  name(pitch) {
    return spelledName(pitch, this.key);
  }
}

/** True for the keys drawn black on a piano. */
export function isBlackKey(pitch) {
  return BLACK.has(pitch % 12);
}

/** A colour per pitch class, so octaves share a hue and chords read at a glance. */
export function pitchColour(pitch, lightness = 62) {
  const hue = (170 + (pitch % 12) * 25) % 360;
  return `hsl(${hue} 75% ${lightness}%)`;
}

/** Horizontal layout of the 88 keys in units of white-key widths: {pitch: [left, width]}. */
export function keyLayout() {
  const layout = new Map();
  let white = 0;
  for (let p = MIN_PITCH; p <= MAX_PITCH; p++) {
    if (isBlackKey(p)) {
      layout.set(p, [white - 0.3, 0.6]);
    } else {
      layout.set(p, [white, 1]);
      white += 1;
    }
  }
  return { layout, whiteCount: white };
}
