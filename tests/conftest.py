"""Shared test configuration."""

# --- registry fixtures (registry, registry_basic, registry_token) ---
pytest_plugins = ["registry_fixtures"]
# --- end registry fixtures ---

# --- busybox root filesystem (busybox_rootfs_tar) ---
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def busybox_rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tar of a minimal busybox root filesystem (see tests/busybox_rootfs.py)."""
    from busybox_rootfs import build_busybox_rootfs

    return build_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs.tar")


# --- end busybox root filesystem ---

# --- the session's default network (tests/netconfig.py) ---


@pytest.fixture(scope="session", autouse=True)
def _session_bridge() -> Iterator[None]:
    """Delete the session's default-network bridge when the session ends."""
    from netconfig import remove_bridge

    yield
    remove_bridge()


# --- end the session's default network ---
