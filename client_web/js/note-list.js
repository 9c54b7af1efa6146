// The notes as an ordered list in the page: readable by screen readers and by tests (data-pitch).

import { KeySpeller, pitchColour } from "./pitch.js";

export class NoteList {
  /**
   * `maxShown` caps the chips kept in the DOM (the oldest go first), so an hour of playing does not
   * make every new chip cost a layout of thousands; `data-total` on the list counts them all.
   */
  constructor(list, maxShown = 5000) {
    this.list = list;
    this.maxShown = maxShown;
    list.dataset.max = String(maxShown);
    this.open = new Map(); // pitch -> <li> of the note still sounding
    this.count = 0;
    this.speller = new KeySpeller(); // names follow the key of what was played (Eb4 in E-flat major)
  }

  clear() {
    this.list.replaceChildren();
    this.speller.reset();
    this.open.clear();
    this.setCount(0);
  }

  setCount(count) {
    this.count = count;
    this.list.dataset.total = String(count);
  }

  /** A note began (live): add its chip. */
  noteOn(pitch, time, velocity) {
    this.noteOff(pitch, time);
    this.speller.hear(pitch, 0.25); // its length is not known yet: count it as a short note
    const item = this.add({ pitch, onset: time, velocity });
    item.classList.add("sounding");
    this.open.set(pitch, item);
    if (!this.scrollPending) {
      this.scrollPending = true; // one layout per frame, however many notes arrive
      requestAnimationFrame(() => {
        this.scrollPending = false;
        this.list.scrollLeft = this.list.scrollWidth;
      });
    }
  }

  /** A note ended (live): record its offset on the chip. */
  noteOff(pitch, time) {
    const item = this.open.get(pitch);
    if (!item) return;
    item.dataset.offset = time.toFixed(3);
    item.classList.remove("sounding");
    this.open.delete(pitch);
  }

  /** Show a finished transcription at once; notes the server named (in the key of its sheet) keep their names. */
  setNotes(notes) {
    this.clear();
    for (const n of notes) this.speller.hear(n.pitch, (n.offset ?? n.onset) - n.onset);
    const fragment = document.createDocumentFragment();
    for (const n of notes.slice(0, this.maxShown)) fragment.append(this.item(n));
    this.list.append(fragment);
    this.setCount(notes.length);
  }

  add(note) {
    const item = this.item(note);
    this.list.append(item);
    this.setCount(this.count + 1);
    if (this.list.childElementCount > this.maxShown) this.list.firstElementChild.remove();
    return item;
  }

  item({ pitch, onset, offset, velocity, name: given }) {
    const item = document.createElement("li");
    const name = given ?? this.speller.name(pitch);
    item.textContent = name;
    item.dataset.pitch = String(pitch);
    item.dataset.onset = onset.toFixed(3);
    if (offset !== undefined) item.dataset.offset = offset.toFixed(3);
    item.dataset.velocity = String(velocity ?? 0);
    item.title = `${name} at ${onset.toFixed(2)} s, velocity ${velocity ?? "?"}`;
    item.style.setProperty("--note-colour", pitchColour(pitch));
    return item;
  }
}
