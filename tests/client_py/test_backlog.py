"""The audio backlog keeps exactly the unacknowledged audio, frame-exact, for resending after a resume."""

import numpy as np
import pytest

from notestream.client.audio_format import AudioFormat, level_dbfs
from notestream.client.backlog import AudioBacklog, BacklogOverflow, SendTimeline


def test_partial_frames_wait_until_whole():
    backlog = AudioBacklog(AudioFormat(16000, "pcm_s16le", 2))  # 4 bytes per frame
    assert backlog.append(b"\x01\x02\x03") == b""
    assert backlog.append(b"\x04\x05") == b"\x01\x02\x03\x04"
    assert backlog.total_bytes == 4
    assert backlog.append(b"\x06\x07\x08") == b"\x05\x06\x07\x08"


def test_resend_starts_at_the_frame_the_server_asks_for():
    fmt = AudioFormat(8000, "f32le", 1)
    backlog = AudioBacklog(fmt)
    audio = np.arange(8000, dtype=np.float32)
    for piece in np.array_split(audio, 7):
        backlog.append(fmt.encode(piece))
    backlog.acknowledge(1000)
    assert backlog.start_seconds == pytest.approx(1000 / 8000)
    resent = fmt.decode(backlog.since(2500)).reshape(-1)
    np.testing.assert_array_equal(resent, audio[2500:])
    with pytest.raises(BacklogOverflow, match="only holds audio from 0.12"):
        backlog.since(999)


def test_acknowledging_everything_empties_the_backlog_but_keeps_the_total():
    fmt = AudioFormat(16000)
    backlog = AudioBacklog(fmt)
    backlog.append(fmt.encode(np.zeros(1600, np.float32)))
    backlog.acknowledge(10_000)  # more than was sent: clamp, do not go negative
    assert backlog.since(1600) == b""
    assert backlog.total_seconds == pytest.approx(0.1)


def test_backlog_refuses_more_than_its_limit_with_a_clear_message():
    fmt = AudioFormat(16000)
    backlog = AudioBacklog(fmt, max_seconds=1.0)
    backlog.append(fmt.encode(np.zeros(16000, np.float32)))
    with pytest.raises(BacklogOverflow, match="waiting for the server"):
        backlog.append(fmt.encode(np.zeros(10, np.float32)))


def test_timeline_gives_the_first_send_time_of_the_audio_holding_an_event():
    timeline = SendTimeline()
    timeline.record(0.1, 100.0)
    timeline.record(0.2, 100.1)
    timeline.record(0.2, 105.0)  # a resend after a reconnect keeps the first time
    assert timeline.sent_at(0.05) == 100.0
    assert timeline.sent_at(0.15) == 100.1
    assert timeline.sent_at(0.2) == 100.1
    assert timeline.sent_at(0.25) is None


def test_timeline_forgets_old_entries_but_stays_bounded_and_correct():
    timeline = SendTimeline(max_entries=10)
    for i in range(1, 26):
        timeline.record(i * 0.1, float(i))
    assert timeline.sent_at(0.05) is None
    assert timeline.sent_at(2.45) == 25.0


def test_formats_round_trip_and_the_level_meter_reads_dbfs():
    for encoding in ("pcm_s16le", "f32le"):
        fmt = AudioFormat(48000, encoding, 2)
        frames = np.stack([np.linspace(-0.5, 0.5, 100), np.zeros(100)], axis=1).astype(np.float32)
        np.testing.assert_allclose(fmt.decode(fmt.encode(frames)), frames, atol=1e-4)
    assert level_dbfs(np.full(100, 0.5, np.float32)) == pytest.approx(-6.02, abs=0.01)
    assert level_dbfs(np.zeros(10, np.float32)) == -120.0
    with pytest.raises(ValueError, match="unknown encoding"):
        AudioFormat(16000, "mp3")
