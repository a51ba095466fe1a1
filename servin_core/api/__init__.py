"""The Docker Engine API (v1.24 to v1.50) over the core, on aiohttp.

One module per concern: ``app`` builds the application (routes under every
version prefix, version negotiation, the headers every reply carries);
``errors`` turns the core's errors into docker's statuses, the one place
that does; ``params`` reads docker's query and body conventions; then one
module per group of endpoints (system, images, containers, exec, attach).
Connection take-over for attach and exec lives in ``hijack``.

The daemon that serves it is ``servin_tui/headless.py``.
"""

from __future__ import annotations

__all__: list[str] = []
