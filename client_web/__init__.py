"""The browser app (plain HTML, CSS and JavaScript modules, no build step), served by notestream.server."""

from pathlib import Path

APP_DIR = Path(__file__).parent  # index.html, favicon.svg, css/, js/
