"""The browser client's test harness; the web app itself lives in stream_server/static/ (see README.md)."""
