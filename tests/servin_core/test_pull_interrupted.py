"""A pull killed with SIGKILL mid-download, then pulled again.

The child process pulls through the real registry and stops itself inside
a layer's download (its progress callback blocks once the first chunk of
the large layer is written), so the kill lands mid-download every time,
with no timing involved.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

from image_factory import build_image, store_image
from registry_fixtures import RegistryServer, unique_repo

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.pull import pull
from servin_core.images.push import push

PROJECT_ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, sys, time
from pathlib import Path
from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.pull import pull

root, reference, stop_at = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

def progress(event):
    partial = 0 < event.current < event.total
    if event.layer == stop_at and event.action == "downloading" and partial:
        print("paused", flush=True)
        time.sleep(3600)  # the test kills this process here

config = Config(data_dir=root, run_dir=root / "run", max_concurrent_downloads=1)
with Core.open(config) as core:
    asyncio.run(pull(core, reference, progress=progress))
print("finished", flush=True)
"""


def open_core(root: Path) -> Core:
    return Core.open(Config(data_dir=root, run_dir=root / "run"))


async def test_pull_killed_mid_download_leaves_no_image_and_resumes(
    tmp_path: Path, registry: RegistryServer
) -> None:
    name = f"{registry.host}/{unique_repo()}:big"
    blobs = build_image(
        [{"small": b"first layer"}, {"large": os.urandom(8 << 20)}],
        compression="none",
    )
    large = blobs.layers[1]
    with open_core(tmp_path / "source") as source:
        await store_image(source, blobs, name)
        await push(source, name)
    root = tmp_path / "target"

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), name, large],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == b"paused\n", child.stderr.read() if child.stderr else b""

        with open_core(root) as observer:
            assert observer.images.list() == []
            partial = list(observer.content.ingest_dir.iterdir())
            assert len(partial) == 1
            assert 0 < partial[0].stat().st_size < len(blobs.blobs[large])
            assert not observer.content.exists(large)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for stream in (child.stdout, child.stderr):
            if stream:
                stream.close()
    assert child.returncode == -signal.SIGKILL

    with open_core(root) as core:
        assert core.images.list() == []
        assert list(core.content.ingest_dir.iterdir()) == []
        assert core.db.query("SELECT * FROM leases") == []

        image = await pull(core, name)

        assert [i.id for i in core.images.list()] == [blobs.config]
        assert [layer.digest for layer in image.layers] == blobs.layers
        top = core.snapshots.path(image.layers[-1].chain_id)
        assert (top / "large").read_bytes() == _layer_file(blobs.blobs[large])
        assert list(core.content.ingest_dir.iterdir()) == []
        assert core.db.query("SELECT * FROM leases") == []


def _layer_file(tar: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        member = archive.extractfile("large")
        assert member is not None
        return member.read()
