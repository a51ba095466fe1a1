"""Shared test configuration."""

# --- registry fixtures (registry, registry_basic, registry_token) ---
pytest_plugins = ["registry_fixtures"]
# --- end registry fixtures ---

# --- busybox root filesystem (busybox_rootfs_tar) ---
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def busybox_rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tar of a minimal busybox root filesystem (see tests/busybox_rootfs.py)."""
    from busybox_rootfs import build_busybox_rootfs

    return build_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs.tar")


# --- end busybox root filesystem ---
