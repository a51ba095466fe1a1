"""Stand-ins for the images the CRI validation suite (critest) pulls, served
from a docker-registry on loopback through Servin's registry mirrors.

critest asks for registry.k8s.io, k8s.gcr.io and gcr.io names; with no
internet, each becomes a small image on Debian's busybox-static
(busybox_rootfs.py) plus one layer that gives it what critest expects of the
real one (shared/reference/critest-images.md): web servers are busybox httpd
behind a shell that names itself after the server, USER variants carry their
passwd and group, and the no-new-privileges helper is a setuid copy of
busybox allowed to keep root for ``id`` by /etc/busybox.conf.

The images are made in a Core of their own and pushed with Servin's own push
code; the Servin being tested pulls them through the mirrors of the
configuration this module writes. By hand::

    python tests/cri_images.py --root DIR [--cni-conf-dir NETD] [--shell FILE]
    servin-tui --root DIR --config DIR/cri-images/servin.toml --headless
    critest --runtime-endpoint unix://DIR/run/cri.sock \
        --image-endpoint unix://DIR/run/cri.sock \
        -ginkgo.skip 'AppArmor|SELinux|NRI' -ginkgo.v

(AppArmor needs a kernel with it, NRI a runtime with it; Servin has no
NRI.) NETD is best a directory of its own with one bridge configuration
on a subnet nothing else routes, with portmap for the host-port specs.

The script prints the configuration's path and the registry's address (the
registry keeps running; its PID is printed to stop it).

busybox-static's shell runs ``ls`` as an applet without executing /bin/ls
(it is built with FEATURE_SH_STANDALONE), so critest's MaskedPaths spec,
which masks /bin/ls and expects ``sh -c ls`` to be refused, needs the
image's /bin/sh from a busybox that searches PATH, as the real image's
does: ``--shell`` takes one, such as Debian's dynamically linked busybox
(``apt-get download busybox && dpkg-deb -x busybox_*.deb DIR``, then
``--shell DIR/bin/busybox``; it conflicts with busybox-static as an
installed package), copied in with the libraries ``ldd`` names. Known miss
of the stand-ins: test-image-digest (no image made here has its digest).
Standard library and servin_core only, like registry_server.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from busybox_rootfs import BUSYBOX, build_busybox_rootfs
from imagekit import Entry, file, store_image, tar_of
from registry_server import RegistryServer, start_registry

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.push import push

__all__ = ["MIRRORED", "STAND_INS", "StandIn", "publish", "write_config"]

MIRRORED = ("registry.k8s.io", "k8s.gcr.io", "gcr.io")
"""The registries critest names, all served by the one local registry."""

_E2E = "registry.k8s.io/e2e-test-images"
_CRI_TOOLS = "gcr.io/k8s-staging-cri-tools"
_BUSYBOX = f"{_E2E}/busybox:1.29-2"
"""critest's default image, the one its MaskedPaths spec runs."""
_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PASSWD = (
    b"root:x:0:0:root:/root:/bin/sh\n"
    b"www-data:x:33:33:www-data:/var/www:/bin/false\n"
    b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
_GROUP = b"root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n"

# busybox-static has neither pgrep nor ipcs, and critest execs both: small
# scripts stand in, reading /proc as the real ones do.
_PGREP = b"""#!/bin/sh
# pgrep stand-in: the PIDs whose command name matches $1
found=1
for dir in /proc/[0-9]*; do
  read -r comm < "$dir/comm" 2>/dev/null || continue
  case "$comm" in *"$1"*) echo "${dir#/proc/}"; found=0 ;; esac
done
exit $found
"""
_IPCS = b"""#!/bin/sh
# ipcs -m stand-in: the shared memory segments of this IPC namespace
echo "------ Shared Memory Segments --------"
cat /proc/sysvipc/shm
"""

# A runtime with pause containers (containerd: bench/cri) keeps this one
# running as long as the pod: it must wait, and end on SIGTERM.
_PAUSE = b"""#!/bin/sh
# pause stand-in: holds the pod's namespaces until it is told to stop
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
"""


def _web_server(name: str, port: int, docroot: str) -> bytes:
    """A shell named ``name`` (so ``pidof name`` finds it) that writes its
    PID where nginx would, runs busybox httpd and ends it on SIGTERM (a
    shell as PID 1 would ignore the signal)."""
    return f"""#!/bin/sh
# {name} stand-in: busybox httpd on port {port}
mkdir -p /var/run
echo $$ > /var/run/{name}.pid
echo "{name}: serving {docroot} on port {port}"
httpd -f -p {port} -h {docroot} &
child=$!
trap 'kill $child; exit 0' TERM INT
wait $child
""".encode()


def _dirs(*names: str) -> list[Entry]:
    return [Entry(name, "dir", mode=0o755) for name in names]


def _script(name: str, data: bytes) -> Entry:
    return file(name, data, mode=0o755)


def _server_layer(name: str, port: int, script: str) -> list[Entry]:
    docroot = f"/usr/share/{name}/html"
    return [
        *_dirs("var", "var/run", "usr/share", f"usr/share/{name}", docroot[1:]),
        file(f"{docroot[1:]}/index.html", f"<h1>{name} stand-in</h1>\n".encode()),
        _script(script, _web_server(name, port, docroot)),
    ]


def _nonewprivs_layer() -> list[Entry]:
    """``id`` that keeps root when setuid applies (busybox drops it for
    every applet unless its configuration says otherwise)."""
    return [
        *_dirs("usr/local", "usr/local/bin"),
        file("usr/local/bin/id", BUSYBOX.read_bytes(), mode=0o4755),
        file("etc/busybox.conf", b"[SUID]\nid = ssx root.root\n", mode=0o600),
    ]


def _shell_layer(shell: Path) -> list[Entry]:
    """``shell`` as /bin/sh (replacing busybox-static's link), with the
    shared libraries ``ldd`` lists for it at their own paths."""
    listing = subprocess.run(
        ["ldd", str(shell)], check=True, capture_output=True, text=True
    ).stdout
    libraries = [word for word in listing.split() if word.startswith("/")]
    entries: dict[str, Entry] = {}
    for library in libraries:
        parts = Path(library).parts[1:]
        for depth in range(1, len(parts)):
            name = "/".join(parts[:depth])
            entries.setdefault(name, Entry(name, "dir", mode=0o755))
        name = "/".join(parts)
        entries[name] = file(name, Path(library).read_bytes(), mode=0o755)
    return [*entries.values(), file("bin/sh", shell.read_bytes(), mode=0o755)]


@dataclass(frozen=True)
class StandIn:
    """One image: the names it is pushed under, the files of its own
    layer, and its configuration beyond PATH."""

    references: tuple[str, ...]
    files: tuple[Entry, ...] = ()
    config: dict[str, object] = field(default_factory=dict)


def _marked(*references: str) -> StandIn:
    """An image told apart from the others by an empty file named after its
    first reference, as critest's own image-test images are."""
    marker = references[0].rsplit("/", 1)[-1].replace(":", "-")
    return StandIn(references, (file(marker),))


def _user(reference: str, user: str) -> StandIn:
    accounts = (file("etc/passwd", _PASSWD), file("etc/group", _GROUP))
    return StandIn((reference,), accounts, {"User": user})


STAND_INS = (
    StandIn((_BUSYBOX,)),
    StandIn(
        (f"{_E2E}/nginx:1.14-2",),
        tuple(_server_layer("nginx", 80, "usr/sbin/nginx")),
        # critest finds nginx's PID 1 by the title real nginx gives it.
        {"Cmd": ["/usr/sbin/nginx", "master process"], "ExposedPorts": {"80/tcp": {}}},
    ),
    StandIn(
        (f"{_E2E}/httpd:2.4.39-4",),
        tuple(_server_layer("httpd", 80, "usr/local/bin/httpd-foreground")),
        {"Cmd": ["httpd-foreground"], "ExposedPorts": {"80/tcp": {}}},
    ),
    StandIn(
        (f"{_CRI_TOOLS}/hostnet-nginx-amd64",),
        tuple(_server_layer("nginx", 12003, "usr/sbin/nginx")),
        {"Cmd": ["/usr/sbin/nginx"], "ExposedPorts": {"12003/tcp": {}}},
    ),
    StandIn(
        (f"{_E2E}/nonewprivs:1.3",),
        tuple(_nonewprivs_layer()),
        {"Cmd": ["/bin/sh", "-c", 'echo "Effective uid: $(/usr/local/bin/id -u)"']},
    ),
    StandIn(
        ("registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"),
        (_script("pause", _PAUSE),),
        {"Entrypoint": ["/pause"], "Cmd": None},
    ),
    _marked(f"{_CRI_TOOLS}/test-image-tag:test"),
    _marked(f"{_CRI_TOOLS}/test-image-tag:all"),
    _marked(f"{_CRI_TOOLS}/test-image-latest"),
    _marked(f"{_CRI_TOOLS}/test-image-1"),
    _marked(f"{_CRI_TOOLS}/test-image-2"),
    _marked(f"{_CRI_TOOLS}/test-image-3"),
    StandIn(
        tuple(f"{_CRI_TOOLS}/test-image-tags:{tag}" for tag in (1, 2, 3)),
        (file("same-image"),),
    ),
    _user(f"{_CRI_TOOLS}/test-image-user-uid", "1002"),
    _user(f"{_CRI_TOOLS}/test-image-user-username", "www-data"),
    _user(f"{_CRI_TOOLS}/test-image-user-uid-group", "1003:1004"),
    _user(f"{_CRI_TOOLS}/test-image-user-username-group", "www-data:1004"),
    StandIn(
        (f"{_CRI_TOOLS}/test-image-predefined-group",),
        (
            file("etc/passwd", _PASSWD + b"default-user:x:1000:1000::/home:/bin/sh\n"),
            file(
                "etc/group",
                _GROUP + b"default-user:x:1000:\n"
                b"group-defined-in-image:x:50000:default-user\n",
            ),
        ),
        {"User": "1000"},
    ),
)
"""Every image critest pulls but one: test-image-digest is asked for by a
digest no image made here can have."""


def _local(reference: str, registry: str) -> str:
    """``reference`` in the local registry: its registry's host replaced,
    as the mirror will map it back."""
    host, _, path = reference.partition("/")
    assert host in MIRRORED, reference
    return f"{registry}/{path}"


async def publish(
    registry: str,
    workdir: Path,
    names: Sequence[str] | None = None,
    shell: Path | None = None,
) -> list[str]:
    """Build the stand-ins (only those with a reference in ``names``, if
    given) in a Core under ``workdir`` and push them to ``registry``
    (``HOST:PORT``); returns the critest references published. ``shell``,
    if given, is the default busybox image's /bin/sh."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = build_busybox_rootfs(workdir / "busybox.tar").read_bytes()
    # ls a file of its own: masking a symlink to busybox masks busybox.
    tools = tar_of(
        [
            file("bin/ls", BUSYBOX.read_bytes(), mode=0o755),
            *_dirs("usr", "usr/bin"),
            _script("usr/bin/pgrep", _PGREP),
            _script("usr/bin/ipcs", _IPCS),
        ]
    )
    published: list[str] = []
    with Core.open(Config().with_root(workdir / "seed")) as seed:
        for stand_in in STAND_INS:
            if names is not None and not set(stand_in.references) & set(names):
                continue
            local = list(
                dict.fromkeys(_local(r, registry) for r in stand_in.references)
            )
            layers = [base, tools]
            if stand_in.files:
                layers.append(tar_of(stand_in.files))
            if shell is not None and _BUSYBOX in stand_in.references:
                layers.append(tar_of(_shell_layer(shell)))
            config = {"Env": [_PATH], "Cmd": ["sh"], **stand_in.config}
            await store_image(seed, layers, tags=local, config=config)
            for reference in local:
                await push(seed, reference)
            published.extend(stand_in.references)
    shutil.rmtree(workdir / "seed", ignore_errors=True)
    return published


def write_config(path: Path, registry: str, cni_conf_dir: Path | None = None) -> Path:
    """A Servin configuration (TOML) whose mirrors send every registry
    critest names to ``registry``; its CRI reads ``cni_conf_dir`` if given
    (a host's /etc/cni/net.d may hold a network that does not route)."""
    lines = (
        [f"cni_conf_dir = {json.dumps(str(cni_conf_dir))}", ""] if cni_conf_dir else []
    )
    for host in MIRRORED:
        lines += [f'[registries."{host}"]', f"mirrors = {json.dumps([registry])}", ""]
    path.write_text("\n".join(lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Serve the images critest pulls from a local registry."
    )
    parser.add_argument("--root", type=Path, required=True, metavar="DIR")
    parser.add_argument("--cni-conf-dir", type=Path, metavar="DIR")
    parser.add_argument(
        "--shell",
        type=Path,
        metavar="FILE",
        help="a busybox without FEATURE_SH_STANDALONE for the busybox image's /bin/sh",
    )
    args = parser.parse_args()
    workdir = args.root.resolve() / "cri-images"
    workdir.mkdir(parents=True, exist_ok=True)

    registry: RegistryServer = start_registry(workdir / "registry", quiet=True)
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        published = asyncio.run(publish(registry.host, Path(scratch), shell=args.shell))
    config = write_config(workdir / "servin.toml", registry.host, args.cni_conf_dir)
    print(f"config: {config}")
    print(f"registry: {registry.host} (pid {registry.process.pid})")
    print(f"images: {len(published)}")


if __name__ == "__main__":
    main()
