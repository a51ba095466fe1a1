"""Servin's front end: the Textual application and docker-style subcommands.

The CLI (``servin_tui.cli``) must start fast, so nothing here imports the
core, Textual or aiohttp at module level; each command imports what it needs
when it runs.
"""

__all__: list[str] = []
