# Two set-up commands on a fresh Debian machine with Python 3.11: `make serve` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000
DEBIAN_PACKAGES := fluidsynth fluid-soundfont-gm fluid-soundfont-gs timgm6mb-soundfont \
	musescore-general-soundfont csound-soundfont timidity freepats ffmpeg jackd2 chromium libportaudio2 haproxy \
	musescore3 librsvg2-bin

.PHONY: system-deps install serve test lint data train clean

system-deps:
	@if dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1; then echo "Debian packages present"; else \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES); fi

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch is pinned first: a looser spec pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/activate pyproject.toml benchmarks/pyproject.toml
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test]' -e ./benchmarks
	touch $@

install: system-deps $(VENV)/.installed

serve: install
	$(BIN)/notestream serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

data: install
	$(BIN)/notestream data render

train: install
	$(BIN)/notestream train

clean:
	rm -rf $(VENV) build *.egg-info
