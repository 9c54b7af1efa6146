"""Note-on latency through the browser app: Chromium's fake microphone plays a rendered piano WAV once,
the page captures it through its AudioWorklet (20 ms packets) and streams it to the server.

The page is traced from outside (an init script wraps its WebSocket; the app itself is unchanged): the
`performance.now()` of every binary send with the count of samples captured so far, every note_on's
arrival, and the first seconds of captured PCM.

Clock origin. Two unknowns map a sample of the WAV to the page's clock:
* which WAV sample the page captured first (the fake device and the page's audio graph start apart, so
  the capture may begin a little into the file, or with some silence before it; here within 10 ms either
  way): found by cross-correlating the captured first sound with the WAV, exact to a sample (the page runs at the
  WAV's 44.1 kHz, nothing resamples); a lead-in of silence keeps a slow start-up from losing notes;
* when captured sample k was played: the packet that ends at sample e left the page at r, so sample e
  existed by r; the sample clock is taken at its least-delayed packet, t(k) = min_i(r_i - e_i/rate) + k/rate.
Packet buffering (a note waits in the worklet until its 20 ms packet is full) and every delay above the
least one are therefore included. Left out is the capture path's constant minimum delay: even the
least-delayed packet's last sample went from the fake device (10 ms buffers) through the audio thread's
next 128-frame render quantum and a thread hop before the page saw it. The latencies are lower bounds by
that amount: a few milliseconds, at most about one 10 ms device buffer (a real microphone adds its own,
device-dependent input latency there). `least_delay_shift_ms` compares the least delay of the first and
second half: a device that dropped or repeated audio would move it.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from notestream.notes import Note
from notestream_bench.chromium import chromium_context, playwright_driver
from notestream_bench.stream_bench import StrikeClock, http_base, percentiles_ms, strike_row

MIC_RATE = 44100  # the rate headless Chromium's fake microphone and audio graph run at here
HEAD_SECONDS = 3.0  # captured PCM kept past the lead-in to align with the WAV
ALIGN_SECONDS = 0.15  # of the capture matched against the WAV, from ALIGN_LEAD_SECONDS before its first sound
ALIGN_LEAD_SECONDS = 0.05

PAGE_TRACE = """
(() => {
  const trace = window.notestreamBench = {rate: 0, lookahead: null, captured: 0, sends: [], noteOns: [],
                                          head: [], headLimit: HEAD_LIMIT};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const now = performance.now();
        if (typeof event.data !== "string") return;
        const msg = JSON.parse(event.data);
        if (msg.type === "note_on") trace.noteOns.push([now, msg.pitch, msg.time]);
        else if (msg.type === "ready") trace.lookahead = msg.lookahead;
      });
    }
    send(data) {
      if (typeof data === "string") {
        const msg = JSON.parse(data);
        if (msg.type === "start") trace.rate = msg.sample_rate;
      } else {
        const pcm = ArrayBuffer.isView(data) ? new Int16Array(data.buffer, data.byteOffset, data.byteLength / 2)
                                             : new Int16Array(data);
        trace.captured += pcm.length;
        trace.sends.push([performance.now(), trace.captured]);
        for (let i = 0; i < pcm.length && trace.head.length < trace.headLimit; i++) trace.head.push(pcm[i]);
      }
      super.send(data);
    }
  };
})();
"""


@dataclass
class PageTrace:
    """What the traced page recorded (times in seconds on its performance.now() clock)."""

    rate: int
    lookahead: float
    sends: np.ndarray  # (n, 2): time of each binary send, samples captured up to its end
    note_ons: list[tuple[float, int, float]]  # (arrival time, pitch, event time in the stream)
    head: np.ndarray  # the first captured samples, float32


def measure_browser(stream_url: str, names: list[str], clip: tuple[np.ndarray, list[Note]], lead_in: float) -> dict:
    """Latency through the browser app at each operating point, one fresh Chromium each; `clip` is mono
    audio at MIC_RATE and the notes it plays, `lead_in` seconds of silence go before it in the WAV."""
    audio, notes = clip
    wav_audio = np.concatenate([np.zeros(int(lead_in * MIC_RATE), np.float32), audio])
    reference = [Note(n.onset + lead_in, n.offset + lead_in, n.pitch, n.velocity) for n in notes]
    rows = []
    with tempfile.TemporaryDirectory(prefix="notestream-browser-") as tmp, playwright_driver() as playwright:
        wav = Path(tmp) / "microphone.wav"
        write_pcm16_wav(wav, wav_audio, MIC_RATE)
        for name in names:
            with chromium_context(playwright, Path(tmp) / f"profile-{name}", wav, loop=False) as context:
                trace = trace_live_page(context, page_url(stream_url), name, wav_audio.size / MIC_RATE, lead_in)
            rows.append(browser_row(name, trace, wav_audio, reference))
            print(f"browser, {name}: from the strike {rows[-1]['from_strike']}", file=sys.stderr)
    return {"client": "the browser app in headless Chromium (fake microphone, AudioWorklet, 16-bit PCM packets)",
            "microphone_rate": MIC_RATE, "lead_in_s": lead_in, "latencies": rows}


def page_url(stream_url: str) -> str:
    """The app's page on the server of a ws://.../v1/stream[?api_key=K] URL (the key carried over)."""
    query = stream_url.partition("?")[2]
    return http_base(stream_url) + "/" + (f"?{query}" if query else "")


def write_pcm16_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """Mono 16-bit WAV: the format Chromium's fake microphone reads."""
    from scipy.io import wavfile

    wavfile.write(str(path), rate, (np.clip(audio, -1, 1) * 32767).astype(np.int16))


def trace_live_page(context, url: str, latency: str, wav_seconds: float, lead_in: float) -> PageTrace:
    """Open the app, choose `latency` in its Speed control, listen until the WAV has played, stop; the trace
    (with the first `lead_in` + HEAD_SECONDS of captured PCM)."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(PAGE_TRACE.replace("HEAD_LIMIT", str(int(MIC_RATE * (lead_in + HEAD_SECONDS)))))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    if not page.query_selector(f"#live-latency-choice option[value='{latency}']"):
        page.wait_for_selector(f"#live-latency-choice option[value='{latency}']", state="attached", timeout=10_000)
    page.select_option("#live-latency-choice", latency)
    page.get_by_role("button", name="Start listening").click()
    page.wait_for_function(f"window.notestreamBench.rate > 0 && window.notestreamBench.captured >= "
                           f"window.notestreamBench.rate * {wav_seconds + 0.5}", timeout=(wav_seconds + 30) * 1000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("#live-downloads:not([hidden])", timeout=120_000)
    raw = page.evaluate("window.notestreamBench")
    page.close()
    if errors:
        raise RuntimeError(f"the page raised JavaScript errors: {'; '.join(errors)}")
    return PageTrace(int(raw["rate"]), float(raw["lookahead"]),
                     np.array(raw["sends"], dtype=float).reshape(-1, 2) / [1000.0, 1.0],
                     [(t / 1000.0, int(p), float(s)) for t, p, s in raw["noteOns"]],
                     np.array(raw["head"], dtype=np.float32) / 32768.0)


def capture_offset(head: np.ndarray, wav_audio: np.ndarray, rate: int) -> int:
    """The sample (at the page's `rate`) of the WAV that the page captured first. Negative when the capture
    began before the file did (Chromium's fake device can hand over some silence first); the WAV is resampled
    to `rate` should the page run at another rate.

    Found where the capture's first sound (ALIGN_SECONDS from just before it) matches the WAV best, not the
    whole head: the fake device drops or repeats a 10 ms buffer now and then (seen 0.35 s after the first
    sound), which blurs any longer match, and it is the notes after the first sound whose clock matters."""
    from math import gcd

    from scipy.signal import correlate, resample_poly

    wav = wav_audio.astype(np.float64)
    if rate != MIC_RATE:
        wav = resample_poly(wav, rate // gcd(rate, MIC_RATE), MIC_RATE // gcd(rate, MIC_RATE))
    loud = np.flatnonzero(np.abs(head) > 0.1 * float(np.abs(head).max(initial=0.0)))
    if not loud.size:  # an all-zero head leaves nothing above a threshold of zero
        raise RuntimeError("the page captured only silence: Chromium did not play the microphone WAV")
    start = max(0, int(loud[0]) - int(ALIGN_LEAD_SECONDS * rate))
    segment = head[start: start + int(ALIGN_SECONDS * rate)].astype(np.float64)
    pad = rate  # up to a second of capture before the file
    wav = np.concatenate([np.zeros(pad), wav])
    scores = correlate(wav, segment, mode="valid", method="fft")
    energy = np.concatenate([[0.0], np.cumsum(wav ** 2)])
    window = np.sqrt(np.maximum(energy[segment.size:] - energy[:-segment.size], 0.0)) * float(np.linalg.norm(segment))
    scores /= np.maximum(window, 1e-9 * max(1e-12, float(window.max())))
    lag = int(np.argmax(scores))
    if not 0.9 <= scores[lag] <= 1.01:
        raise RuntimeError(f"the page's captured audio does not match the microphone WAV (best correlation "
                           f"{scores[lag]:.2f}): Chromium did not play the file as expected")
    return lag - start - pad


def browser_row(name: str, trace: PageTrace, wav_audio: np.ndarray, reference: list[Note]) -> dict:
    """Latency from the strike for one traced page: the WAV's clock mapped onto the page's (module docstring)."""
    first = capture_offset(trace.head, wav_audio, trace.rate)
    delays = trace.sends[:, 0] - trace.sends[:, 1] / trace.rate
    half = delays.size // 2  # a device that dropped or repeated audio would move the least delay between halves
    strikes = StrikeClock([n for n in reference if n.onset * trace.rate >= first])
    strikes.started = float(delays.min()) - first / trace.rate  # the page's time of WAV sample 0
    latencies = [arrived - struck for arrived, pitch, time in trace.note_ons
                 if (struck := strikes.struck(pitch, time + first / trace.rate)) is not None]
    return strike_row(name, trace.lookahead, latencies, sum(len(t) for t in strikes.onsets.values()),
                      note_ons=len(trace.note_ons), page_rate=trace.rate, capture_started_s=round(first / trace.rate, 3) + 0.0,
                      packet_delay_above_least=percentiles_ms(list(delays - delays.min())),
                      least_delay_shift_ms=round(float(delays[half:].min() - delays[:half].min()) * 1000, 1))
