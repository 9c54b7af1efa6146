// The microphone as raw PCM: getUserMedia with all voice processing off, an AudioWorklet to read it.

/** Capture settings that keep a piano's sound intact (no echo cancelling, denoising or auto gain). */
export const RAW_AUDIO = {
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
  channelCount: 1,
  sampleRate: { ideal: 48000 },
};

/** Sample rates the server accepts (docs/protocol.md, `start`). */
const SERVER_RATES = new Set([8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000]);

export class Microphone {
  /** `onPacket(Int16Array, peak)` receives ~40 ms of mono PCM at `sampleRate` from the audio thread. */
  constructor(onPacket) {
    this.onPacket = onPacket;
    this.context = null;
    this.stream = null;
    this.node = null;
  }

  get sampleRate() {
    return this.context?.sampleRate ?? 0;
  }

  /** Ask for the microphone and start capturing; throws a user-readable Error when refused. */
  async open() {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error("This browser cannot record audio here (a secure https:// or localhost page is needed).");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: RAW_AUDIO, video: false });
    } catch (err) {
      throw new Error(err.name === "NotAllowedError"
        ? "Microphone access was refused — allow it in the browser's site settings and try again."
        : `No microphone could be opened (${err.message || err.name}).`);
    }
    // Run the audio graph at the microphone's own rate: no resampling in the browser, and the server
    // accepts every common rate.
    const micRate = this.stream.getAudioTracks()[0]?.getSettings().sampleRate;
    const options = { latencyHint: "interactive" };
    if (SERVER_RATES.has(micRate)) options.sampleRate = micRate;
    this.context = new AudioContext(options);
    await this.context.audioWorklet.addModule(new URL("./capture-worklet.js", import.meta.url));
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "notestream-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
    });
    this.node.port.onmessage = (e) => this.onPacket(e.data.pcm, e.data.peak);
    const mute = this.context.createGain();
    mute.gain.value = 0; // the node must reach the destination to be pulled, but we never play the mic
    source.connect(this.node).connect(mute).connect(this.context.destination);
    await this.context.resume();
  }

  /** Release the microphone (the browser's recording indicator goes off). */
  async close() {
    this.node?.port.close();
    this.stream?.getTracks().forEach((t) => t.stop());
    if (this.context && this.context.state !== "closed") await this.context.close();
    this.context = this.stream = this.node = null;
  }
}
