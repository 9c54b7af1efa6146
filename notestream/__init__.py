"""notestream: live piano transcription. See README.md."""

__version__ = "0.1.0"
