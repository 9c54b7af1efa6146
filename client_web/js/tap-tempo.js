// Tap tempo: beats per minute from the beats a user taps on a button (the last few taps; a pause starts over).

const RESTART_MS = 3000; // a longer pause between taps starts a new count
const KEPT_TAPS = 8;

export class TapTempo {
  constructor() {
    this.taps = [];
  }

  /** Record a tap at `now` (ms); the tempo of the median gap once there are two taps, else null. */
  tap(now) {
    if (this.taps.length && now - this.taps.at(-1) > RESTART_MS) this.taps = [];
    this.taps = [...this.taps, now].slice(-KEPT_TAPS);
    if (this.taps.length < 2) return null;
    const gaps = this.taps.slice(1).map((t, i) => t - this.taps[i]).sort((a, b) => a - b);
    const middle = gaps.length >> 1;
    const median = gaps.length % 2 ? gaps[middle] : (gaps[middle - 1] + gaps[middle]) / 2;
    return 60000 / median;
  }
}
