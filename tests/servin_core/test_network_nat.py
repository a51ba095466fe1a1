"""Outbound NAT with one masquerade rule per network: traffic from the
default and from a user network leaves with the host's address, an
internal network has no rule and no way out, no rule is a container's,
and a network's rule goes with the network."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all
from network_kit import listener_in, nat_rules_naming, outside_host

from servin_core.containers import lifecycle
from servin_core.containers.logs import read_logs
from servin_core.containers.model import ContainerConfig
from servin_core.core import Core
from servin_core.network.manage import create_network, prune_networks, remove_network
from servin_core.network.masquerade import CHAIN

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)
    for network in core.networks.list():
        if network.name != "servin":
            remove_network(core, network.id)


async def run(core: Core, *cmd: str, **config: object) -> tuple[str, int, str]:
    """Create and start a container, wait: its ID, status and output."""
    container = await lifecycle.create(
        core,
        ContainerConfig(image=IMAGE, cmd=list(cmd), **config),  # type: ignore[arg-type]
    )
    await lifecycle.start(core, container.id)
    status = await lifecycle.wait(core, container.id)
    text = b""
    async for line in read_logs(core, core.containers.get(container.id)):
        text += line.data
    return container.id, status, text.decode()


def masquerade_rules(bridge: str) -> list[str]:
    """Servin's masquerade rules that name ``bridge``."""
    return [
        rule
        for rule in nat_rules_naming(f"servin {bridge}")
        if rule.startswith(f"-A {CHAIN} ") and "MASQUERADE" in rule
    ]


async def test_outbound_traffic_from_a_user_network_is_masqueraded(
    box: Core, tmp_path: Path
) -> None:
    network = create_network(box, "outward")

    with outside_host(tmp_path, "u") as (netns, far_ip):
        listener = listener_in(netns, far_ip)
        with listener as process:
            ident, status, text = await run(
                box, "sh", "-c", f"nc {far_ip} 9099 </dev/null", network="outward"
            )
            assert process.stdout is not None
            peer = process.stdout.readline().strip()

    assert (status, text) == (0, "hello from outside\n")
    # The outside saw the host's address on its link, not the container's.
    assert peer == far_ip.rsplit(".", 1)[0] + ".1"
    assert masquerade_rules(network.bridge) == [
        f"-A {CHAIN} -s {network.subnet} ! -d {network.subnet} -m comment"
        f' --comment "servin {network.bridge}" -j MASQUERADE'
    ]
    assert nat_rules_naming(ident) == []  # nothing of the container's own


async def test_the_default_network_has_one_rule_and_none_per_container(
    box: Core,
) -> None:
    first, _, _ = await run(box, "true")
    second, _, _ = await run(box, "true")

    assert len(masquerade_rules(box.config.default_bridge)) == 1
    assert nat_rules_naming(first) == nat_rules_naming(second) == []


async def test_an_internal_network_has_no_rule_and_no_way_out(
    box: Core, tmp_path: Path
) -> None:
    network = create_network(box, "sealed", internal=True)

    with outside_host(tmp_path, "i") as (_, far_ip):
        _, status, text = await run(
            box, "sh", "-c", f"nc -w 2 {far_ip} 9099 </dev/null 2>&1; echo exit $?",
            network="sealed",
        )  # fmt: skip

    assert status == 0
    assert text.splitlines()[-2:] == [
        f"nc: can't connect to remote host ({far_ip}): Network is unreachable",
        "exit 1",
    ]
    assert masquerade_rules(network.bridge) == []


async def test_network_rm_and_prune_remove_the_networks_rule(box: Core) -> None:
    removed = create_network(box, "gone")
    pruned = create_network(box, "pruned")
    for name in ("gone", "pruned"):
        ident, _, _ = await run(box, "true", network=name)
        await lifecycle.remove(box, ident)
    assert len(masquerade_rules(removed.bridge)) == 1
    assert len(masquerade_rules(pruned.bridge)) == 1

    remove_network(box, "gone")
    prune_networks(box)

    assert masquerade_rules(removed.bridge) == []
    assert masquerade_rules(pruned.bridge) == []
    assert len(masquerade_rules(box.config.default_bridge)) == 1


async def test_the_rule_of_a_network_whose_row_is_gone_is_removed_at_open(
    box: Core,
) -> None:
    network = create_network(box, "orphan")
    ident, _, _ = await run(box, "true", network="orphan")
    await lifecycle.remove(box, ident)
    # The row goes behind Servin's back (a database restored from an older
    # copy): removal itself deletes the rule before the row.
    with box.db.write() as conn:
        conn.execute("DELETE FROM networks WHERE id = ?", (network.id,))
    assert len(masquerade_rules(network.bridge)) == 1

    try:
        with Core.open(box.config):
            assert masquerade_rules(network.bridge) == []
    finally:
        subprocess.run(["ip", "link", "del", network.bridge], capture_output=True)


async def test_processes_racing_to_add_the_rule_make_one(box: Core) -> None:
    network = create_network(box, "raced")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "sys.path[:0] = sys.argv[2:]\n"
        "from netconfig import session_config\n"
        "from servin_core.core import Core\n"
        "from servin_core.network.masquerade import ensure_masquerade\n"
        "with Core.open(session_config(Path(sys.argv[1]))) as core:\n"
        "    ensure_masquerade(core, core.networks.resolve('raced'))\n"
    )
    tests = Path(__file__).parent
    command = [
        sys.executable, "-c", script, str(box.config.data_dir),
        str(tests.parent), str(tests),
    ]  # fmt: skip
    racers = [subprocess.Popen(command) for _ in range(4)]

    assert [racer.wait() for racer in racers] == [0, 0, 0, 0]
    assert len(masquerade_rules(network.bridge)) == 1
    remove_network(box, "raced")
    assert masquerade_rules(network.bridge) == []
