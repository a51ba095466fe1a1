"""Entry point of ``servin-tui`` and ``python -m servin_tui``."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the command line in ``sys.argv`` and exit with its status."""
    from servin_tui.cli.main import run

    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
