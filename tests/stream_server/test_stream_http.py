"""HTTP side of the server: session results and exports, uploads, access control, health, metrics, static files."""

from __future__ import annotations

import asyncio
import io
import json
import time

import aiohttp
import av
import pretty_midi

from notestream.exporters.text import spelled_names
from notestream.model.evaluation import note_metrics
from notestream.score import sheet_key
from tests.stream_server.stream_test_client import notes_of, pcm_bytes, split_randomly, stream_whole


async def fetch(method: str, url: str, **kwargs) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as client, client.request(method, url, **kwargs) as response:
        return response.status, await response.read(), response.content_type


def get(url: str, **kwargs) -> tuple[int, bytes, str]:
    return asyncio.run(fetch("GET", url, **kwargs))


def get_json(url: str, **kwargs) -> tuple[int, dict]:
    status, body, _ = get(url, **kwargs)
    return status, json.loads(body)


def upload(server, name: str, payload: bytes, **kwargs) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("file", payload, filename=name)
    status, body, _ = asyncio.run(fetch("POST", server.http + "/v1/transcriptions", data=form, **kwargs))
    return status, json.loads(body)


def test_session_results_need_the_token_and_come_as_json_midi_score_pdf_and_audio(server, piano_16k):
    data, rate, channels = pcm_bytes(piano_16k)
    events, final, ready = asyncio.run(stream_whole(server.ws, split_randomly(data, seed=7, high=40000), rate, channels))
    urls, token = final["urls"], ready["token"]
    assert get(server.http + urls["json"])[0] == 403
    assert get(server.http + urls["json"] + "?token=wrong")[0] == 403
    assert get(server.http + "/v1/sessions/s_missing?token=x")[0] == 404
    status, result = get_json(server.http + urls["json"], headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and result["status"] == "final"
    assert len(result["notes"]) == final["notes"] == len(notes_of(events)) > 0
    status, midi, _ = get(server.http + urls["midi"] + f"?token={token}")
    assert status == 200 and len(pretty_midi.PrettyMIDI(io.BytesIO(midi)).instruments[0].notes) == final["notes"]
    status, xml, _ = get(server.http + urls["musicxml"] + f"?token={token}")
    assert status == 200 and b"<score-partwise" in xml
    # the notes are named in the key signature the sheet is written in
    assert result["key"]["fifths"] == int(xml.split(b"<fifths>")[1].split(b"<")[0])
    notes = _as_notes(result["notes"])
    assert [n["name"] for n in result["notes"]] == spelled_names(notes, sheet_key(notes))
    status, svg, kind = get(server.http + urls["svg"] + f"?token={token}")
    assert status == 200 and kind == "image/svg+xml" and b"<svg" in svg
    status, waltz, _ = get(server.http + urls["musicxml"] + f"?token={token}&tempo=90&time_signature=3/4")
    assert status == 200 and b"<beats>3</beats><beat-type>4</beat-type>" in waltz.replace(b"\n", b"").replace(b" ", b"")
    status, refused = get_json(server.http + urls["svg"] + f"?token={token}&tempo=fast")
    assert status == 400 and refused["error"] == "bad_hint" and "beats per minute" in refused["message"]
    status, pdf, kind = get(server.http + urls["pdf"] + f"?token={token}")
    assert status == 200 and kind == "application/pdf" and pdf.startswith(b"%PDF-")
    status, flac, _ = get(server.http + urls["audio"] + f"?token={token}")
    with av.open(io.BytesIO(flac)) as container:
        seconds = sum(f.samples for f in container.decode(audio=0)) / container.streams.audio[0].rate
    assert status == 200 and abs(seconds - 3.0) < 0.01
    assert get(server.http + urls["json"] + f".png?token={token}")[0] == 404


def test_uploaded_file_is_transcribed_like_the_library_does(server, piano_16k, transcriber):
    status, job = upload(server, "take one.wav", piano_16k.read_bytes())
    assert status == 202 and job["job"] and job["token"]
    auth = {"Authorization": f"Bearer {job['token']}"}
    deadline = time.monotonic() + 60
    while (body := get_json(server.http + job["status_url"], headers=auth)[1])["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert body["status"] == "done" and body["progress"] == 1.0, body
    offline = transcriber.transcribe(piano_16k).notes
    uploaded = [(n["onset"], n["offset"], n["pitch"]) for n in body["result"]["notes"]]
    assert len(uploaded) == len(offline) and note_metrics(_as_notes(body["result"]["notes"]), offline).note_f1 == 1.0
    status, sse, kind = get(server.http + job["events_url"], headers=auth)
    assert status == 200 and kind == "text/event-stream" and sse.decode().rstrip().split("\n\n")[-1].startswith("event: done")
    assert get(server.http + job["status_url"])[0] == 403


def _as_notes(rows: list[dict]):
    from notestream.notes import Note

    return [Note(r["onset"], r["offset"], r["pitch"], r["velocity"]) for r in rows]


def test_upload_that_is_not_audio_is_refused_with_415_and_the_reason(server):
    status, body = upload(server, "noise.wav", b"this is not a wav file at all" * 10)
    assert status == 415 and body["error"] == "unsupported_media" and "noise.wav" in body["message"]
    status, body = upload(server, "notes.txt", b"hello")
    assert status == 415 and ".txt" in body["message"]


def test_upload_over_the_size_limit_is_refused_with_413(server_factory, piano_16k):
    server = server_factory(max_upload_bytes=10_000)
    status, body = upload(server, "big.wav", piano_16k.read_bytes())
    assert status == 413 and body["error"] == "too_large"


def test_api_key_guards_the_api_but_not_health_or_metrics(server_factory):
    server = server_factory(api_key="sesame")
    assert get_json(server.http + "/v1/sessions/s_x")[0] == 401
    assert get_json(server.http + "/v1/sessions/s_x", headers={"X-API-Key": "sesame"})[0] == 404
    assert get_json(server.http + "/v1/sessions/s_x?api_key=sesame")[0] == 404
    assert get_json(server.http + "/healthz")[1]["status"] == "ok"
    assert get(server.http + "/metrics")[0] == 200


def test_metrics_count_sessions_audio_and_note_latency(server, piano_16k):
    data, rate, channels = pcm_bytes(piano_16k)
    asyncio.run(stream_whole(server.ws, split_randomly(data, seed=8, high=4000), rate, channels))
    status, text, kind = get(server.http + "/metrics")
    lines = dict(line.rsplit(" ", 1) for line in text.decode().splitlines() if not line.startswith("#"))
    assert status == 200 and kind == "text/plain"
    assert float(lines["notestream_sessions_started_total"]) == 1
    assert abs(float(lines["notestream_audio_seconds_total"]) - 3.0) < 0.01
    assert float(lines["notestream_event_latency_seconds_count"]) > 0
    assert float(lines["notestream_sessions_live"]) == 0


def test_static_client_is_served_from_its_folder_and_nothing_outside_it(server_factory, tmp_path):
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>notestream</title>")
    (static / "js" / "app.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("no")
    server = server_factory(static_dir=static)
    assert get(server.http + "/")[1].startswith(b"<!doctype html>")
    assert get(server.http + "/static/js/app.js")[1] == b"console.log('hi')"
    assert get(server.http + "/static/..%2Fsecret.txt")[0] == 404
    missing = server_factory(static_dir=tmp_path / "not-built-yet")
    assert get(missing.http + "/")[0] == 404
