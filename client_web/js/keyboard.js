// The 88-key keyboard under the live view: DOM keys that light up while a note sounds.

import { MAX_PITCH, MIN_PITCH, isBlackKey, keyLayout, noteName, pitchColour } from "./pitch.js";

export class Keyboard {
  /** Build the keys inside `container` (positions in % so the keyboard stretches with the page). */
  constructor(container) {
    this.container = container;
    this.keys = new Map();
    const { layout, whiteCount } = keyLayout();
    for (let p = MIN_PITCH; p <= MAX_PITCH; p++) {
      const [left, width] = layout.get(p);
      const key = document.createElement("div");
      key.className = isBlackKey(p) ? "key black" : "key white";
      key.dataset.pitch = String(p);
      key.title = noteName(p);
      key.style.left = `${(left / whiteCount) * 100}%`;
      key.style.width = `${(width / whiteCount) * 100}%`;
      key.style.setProperty("--key-colour", pitchColour(p));
      if (p % 12 === 0) {
        const label = document.createElement("span");
        label.className = "key-label";
        label.textContent = noteName(p);
        key.append(label);
      }
      this.keys.set(p, key);
      container.append(key);
    }
  }

  /** Light or darken one key. */
  set(pitch, down) {
    const key = this.keys.get(pitch);
    if (key) key.classList.toggle("on", down);
  }

  /** Every key up (stop, reset). */
  clear() {
    for (const key of this.keys.values()) key.classList.remove("on");
  }

  /** Pitches currently lit, for the "now playing" readout. */
  held() {
    return [...this.keys.entries()].filter(([, k]) => k.classList.contains("on")).map(([p]) => p);
  }
}
