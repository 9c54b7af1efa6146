// Live notes to a MIDI output the browser sees (Web MIDI); everything still works without it.

export class MidiOutput {
  /** Fill `select` with the outputs once the user asks; `status` explains when MIDI is unavailable. */
  constructor(select, status) {
    this.select = select;
    this.status = status;
    this.access = null;
    this.held = new Set();
    if (!navigator.requestMIDIAccess) {
      this.disable("Web MIDI is not available in this browser.");
      return;
    }
    select.addEventListener("focus", () => this.requestAccess(), { once: true });
    select.addEventListener("pointerdown", () => this.requestAccess(), { once: true });
    select.addEventListener("change", () => this.allNotesOff(true));
  }

  disable(message) {
    this.select.disabled = true;
    this.status.textContent = message;
  }

  /** Ask for MIDI permission (browsers prompt once) and list the outputs. */
  async requestAccess() {
    if (this.access) return;
    try {
      this.access = await navigator.requestMIDIAccess();
    } catch (err) {
      this.disable(`MIDI output unavailable (${err.message || err.name}).`);
      return;
    }
    this.access.onstatechange = () => this.listOutputs();
    this.listOutputs();
  }

  listOutputs() {
    const chosen = this.select.value;
    const options = [new Option("Off", "")];
    for (const output of this.access.outputs.values()) options.push(new Option(output.name, output.id));
    this.select.replaceChildren(...options);
    this.select.value = [...this.select.options].some((o) => o.value === chosen) ? chosen : "";
    this.status.textContent = options.length > 1 ? "" : "No MIDI outputs found.";
  }

  get port() {
    return this.select.value && this.access ? this.access.outputs.get(this.select.value) : null;
  }

  /** Forward one protocol event (note_on/note_off/pedal_on/pedal_off) on channel 1. */
  send(event) {
    const port = this.port;
    if (!port) return;
    if (event.type === "note_on") {
      port.send([0x90, event.pitch, Math.max(1, Math.min(127, event.velocity ?? 80))]);
      this.held.add(event.pitch);
    } else if (event.type === "note_off") {
      port.send([0x80, event.pitch, 0]);
      this.held.delete(event.pitch);
    } else if (event.type === "pedal_on" || event.type === "pedal_off") {
      port.send([0xb0, 64, event.type === "pedal_on" ? 127 : 0]);
    }
  }

  /** Release every key we pressed and the pedal (on stop or when the output changes). */
  allNotesOff(everyPort = false) {
    const ports = everyPort && this.access ? [...this.access.outputs.values()] : [this.port].filter(Boolean);
    for (const port of ports) {
      for (const pitch of this.held) port.send([0x80, pitch, 0]);
      port.send([0xb0, 64, 0]);
      port.send([0xb0, 123, 0]);
    }
    this.held.clear();
  }
}
