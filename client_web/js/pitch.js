// MIDI pitch facts shared by every view: names, key colours, the piano's range.

export const MIN_PITCH = 21; // A0
export const MAX_PITCH = 108; // C8
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const BLACK = new Set([1, 3, 6, 8, 10]);

/** 60 -> "C4" (scientific pitch notation, as the server names notes). */
export function noteName(pitch) {
  return `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
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
