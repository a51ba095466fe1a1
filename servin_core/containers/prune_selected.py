"""``container prune`` with filters: the stopped containers a PruneFilter
selects by their labels and the time they were created.

Apart from :func:`servin_core.containers.lifecycle.prune` (which removes
every stopped container) so that the unfiltered prune stays as it is; both
front ends call :func:`prune_selected` when a filter is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from servin_core.containers import lifecycle
from servin_core.containers.reconcile import refresh
from servin_core.errors import Conflict, NotFound

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.filters import PruneFilter

__all__ = ["prune_selected"]


async def prune_selected(core: Core, only: PruneFilter) -> list[str]:
    """Remove the stopped containers ``only`` selects; their IDs."""
    removed = []
    for container in core.containers.list():
        if not only.selects(container.config.labels, container.created):
            continue
        if not refresh(core, container).state.can_remove(force=False):
            continue

        # The removal checks the state again under the container's lock.
        try:
            await lifecycle.remove(core, container.id)
        except (NotFound, Conflict):
            continue  # removed or started by another process since we looked
        removed.append(container.id)
    return removed
