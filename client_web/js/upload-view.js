// The File tab: drop or pick a recording, upload it with progress, follow the job, show the result.

import { authHeaders, getJson, withToken } from "./api.js";
import { rememberSession } from "./session-history.js";

const POLL_MS = 500;

export class UploadView {
  /** `result` is the ResultView that shows a finished job. */
  constructor(root, result) {
    this.root = root;
    this.result = result;
    this.el = (id) => root.querySelector(`#${id}`);
    this.busy = false;
    const zone = this.el("drop-zone");
    const input = this.el("file-input");
    input.addEventListener("change", () => input.files[0] && this.upload(input.files[0]));
    zone.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        input.click();
      }
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      const file = e.dataTransfer.files[0];
      if (file) this.upload(file);
    });
  }

  status(text, isError = false) {
    const el = this.el("file-status");
    el.textContent = text;
    el.classList.toggle("error", isError);
  }

  setProgress(which, fraction) {
    const value = Math.max(0, Math.min(1, fraction));
    this.el(`${which}-progress`).value = value;
    this.el(`${which}-percent`).textContent = `${Math.round(value * 100)}%`;
  }

  /** Upload `file`, wait for its transcription and show it; errors end up in the status line. */
  async upload(file) {
    if (this.busy) return;
    this.busy = true;
    this.el("file-progress").hidden = false;
    this.setProgress("upload", 0);
    this.setProgress("job", 0);
    this.status(`Uploading ${file.name}…`);
    try {
      const job = await this.send(file);
      rememberSession({ id: job.job, token: job.token, kind: "file", title: file.name, status: "running" });
      this.status(`Transcribing ${file.name}…`);
      const done = await this.follow(job);
      const session = done.result ?? (await getJson(job.status_url, job.token)).result;
      rememberSession({
        id: job.job, token: job.token, status: "final",
        notes: session.notes?.length ?? 0, duration: session.duration,
      });
      this.status(`${file.name}: ${session.notes?.length ?? 0} notes in ${(session.duration ?? 0).toFixed(1)} s.`);
      await this.result.show({
        id: job.job, token: job.token, title: file.name, audioSrc: URL.createObjectURL(file), session,
      });
    } catch (err) {
      this.status(err.message, true);
    } finally {
      this.busy = false;
      this.el("file-input").value = "";
    }
  }

  /** POST the file as multipart with XHR (fetch has no upload progress); resolves with the job JSON. */
  send(file) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", withToken("/v1/transcriptions"));
      for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
      xhr.responseType = "json";
      xhr.upload.onprogress = (e) => e.lengthComputable && this.setProgress("upload", e.loaded / e.total);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          this.setProgress("upload", 1);
          resolve(xhr.response);
        } else {
          const body = xhr.response ?? {};
          reject(new Error(body.message ?? `Upload failed (${xhr.status} ${xhr.statusText}).`));
        }
      };
      xhr.onerror = () => reject(new Error("The upload failed: the server could not be reached."));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }

  /** Follow the job until done: Server-Sent Events when they work, polling otherwise. */
  follow(job) {
    return new Promise((resolve, reject) => {
      const settle = (state) => {
        this.setProgress("job", state.progress ?? 0);
        if (state.status === "done") resolve(state);
        else if (state.status === "failed") reject(new Error(state.error ?? "The transcription failed."));
        return state.status === "done" || state.status === "failed";
      };
      const poll = async () => {
        try {
          if (!settle(await getJson(job.status_url, job.token))) setTimeout(poll, POLL_MS);
        } catch (err) {
          reject(err);
        }
      };
      if (!job.events_url || !window.EventSource) return void poll();
      const events = new EventSource(withToken(job.events_url, job.token));
      const onState = (e) => settle(JSON.parse(e.data)) && events.close();
      events.addEventListener("progress", onState);
      events.addEventListener("done", onState);
      events.addEventListener("failed", onState);
      events.onerror = () => {
        events.close();
        poll(); // the stream ended or never worked: the status URL has the answer
      };
    });
  }
}
