"""Subcommands of the `notestream` CLI."""
