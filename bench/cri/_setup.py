"""What both runtimes share: the image they pull and the network their pods join.

The image is the test suite's busybox-static root filesystem
(tests/busybox_rootfs.py) imported with Servin's own import, its command
set to sleep for ever, and pushed with Servin's own push to a throwaway
docker-registry on loopback (tests/registry_server.py). containerd uses it
as its sandbox ("pause") image too: Servin holds a pod's namespaces without
one, so only containerd runs it.

The network is one CNI configuration list in a directory of the bench's
own: Debian's bridge plugin on a bridge named for the run, host-local
addresses from a /24 no route of the host's overlaps, kept under the
bench's directory. Both daemons are pointed at that directory, so each pod
of either gets a veth on the same bridge.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "CNI_BIN_DIR",
    "IMAGE_PATH",
    "build_rootfs_tar",
    "free_subnet",
    "publish_image",
    "remove_bridge",
    "start_registry",
    "write_network",
]

_TESTS = Path(__file__).resolve().parents[2] / "tests"
CNI_BIN_DIR = Path("/usr/lib/cni")
"""Where Debian's containernetworking-plugins puts the plugins."""
IMAGE_PATH = "bench/busybox-sleep:1"
"""The image's repository and tag in the registry."""
_SLEEP = '["/bin/sleep", "2147483647"]'


def _load(name: str) -> Any:
    """A standard-library-only helper of the test suite, loaded by path:
    tests/ is not a package, and putting it on sys.path would let its
    modules shadow the real ones."""
    path = _TESTS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_bench_cri_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build_rootfs_tar(path: Path) -> Path:
    """Write the busybox root filesystem tar to ``path``."""
    built: Path = _load("busybox_rootfs").build_busybox_rootfs(path)
    return built


def start_registry(workdir: Path) -> Any:
    """A running registry (``.host``, ``.stop()``) with storage under
    ``workdir``, quiet: no access log line while the runtimes pull."""
    return _load("registry_server").start_registry(workdir, quiet=True)


def publish_image(seed_root: Path, tarball: Path, registry: str) -> str:
    """Import ``tarball`` with a sleeping command into a Servin store of its
    own at ``seed_root`` and push it to ``registry``; its reference."""
    from servin_core.config import Config
    from servin_core.core import Core
    from servin_core.images.importer import import_image
    from servin_core.images.push import push

    reference = f"{registry}/{IMAGE_PATH}"

    async def publish() -> None:
        with Core.open(Config().with_root(seed_root)) as seed:
            with tarball.open("rb") as source:
                await import_image(
                    seed,
                    source,
                    reference,
                    changes=[f"CMD {_SLEEP}", "ENV PATH=/bin:/sbin:/usr/bin"],
                )
            await push(seed, reference)

    asyncio.run(publish())
    return reference


def free_subnet() -> str:
    """A /24 from 10.64.0.0/10 that no route of the host's overlaps (the
    test sessions and the other benchmarks draw from other ranges)."""
    from servin_core.network.subnets import host_routes

    taken = [route for _, route in host_routes()]
    pool = list(ipaddress.IPv4Network("10.64.0.0/10").subnets(new_prefix=24))
    start = os.getpid() % len(pool)
    for step in range(len(pool)):
        candidate = pool[(start + step * 7919) % len(pool)]
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise RuntimeError("no free /24 for the benchmark's pod network")


def write_network(conf_dir: Path, name: str, bridge: str, subnet: str) -> Path:
    """The one CNI configuration list both runtimes read from ``conf_dir``."""
    conf_dir.mkdir(parents=True)
    network = {
        "cniVersion": "1.0.0",
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": subnet}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(conf_dir.parent / "cni-ipam"),
                },
            }
        ],
    }
    path = conf_dir / "10-bench.conflist"
    path.write_text(json.dumps(network, indent=2) + "\n")
    return path


def remove_bridge(bridge: str) -> None:
    """Delete the run's bridge (absent already is fine)."""
    subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
