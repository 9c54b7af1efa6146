// Runs on the audio thread: turns microphone blocks into 16-bit PCM packets plus a level reading.

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    // 20 ms: a packet waits 10 ms on average for its last sample, which the musician feels as latency
    const seconds = options.processorOptions?.packetSeconds ?? 0.02;
    this.packet = new Int16Array(Math.max(128, Math.round(seconds * sampleRate)));
    this.filled = 0;
    this.peak = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true; // no input connected yet: keep the node alive
    for (let i = 0; i < channel.length; i++) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.peak = Math.max(this.peak, Math.abs(s));
      this.packet[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.packet.length) this.flush();
    }
    return true;
  }

  flush() {
    const pcm = this.packet.slice(0, this.filled);
    this.port.postMessage({ pcm, peak: this.peak }, [pcm.buffer]);
    this.filled = 0;
    this.peak = 0;
  }
}

registerProcessor("notestream-capture", CaptureProcessor);
