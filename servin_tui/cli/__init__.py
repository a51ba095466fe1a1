"""The docker-style subcommands of ``servin-tui``.

``main`` parses and dispatches; each command group lives in its own module
(``images``, ``inspect``, ``remove``, ``transfer``, ``login``, ``archive``,
``importer``) and declares its commands as
:class:`~servin_tui.cli.command.Command` values; ``output``, ``template``,
``humanize`` and ``progress`` draw what the commands print.
"""

__all__: list[str] = []
