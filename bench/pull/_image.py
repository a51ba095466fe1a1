"""The benchmark's image: made and pushed with Servin's own import and push.

Each layer holds about ``layer_mb`` MiB in three kinds of file, so that the
pull exercises what real layers make it do:

- random bytes (60 %), which gzip cannot shrink: download and hashing
  dominate;
- text from a small vocabulary (38 %), which gzip shrinks several times:
  decompression matters;
- small configuration-like files (2 %), many of them: the cost per tar entry
  (create, chown, chmod, utime) shows.

Content is drawn from a generator seeded by the layer's position, so every
layer differs from the others (no layer is shared or skipped) and a rerun
makes the same image.
"""

from __future__ import annotations

import io
import random
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.importer import import_image
from servin_core.images.push import push

__all__ = ["BenchImage", "build_and_push", "write_layers"]

MIB = 1 << 20
_RANDOM_SHARE, _TEXT_SHARE, _SMALL_SHARE = 0.60, 0.38, 0.02
_RANDOM_FILE = 512 << 10
_TEXT_FILE = 64 << 10
_SMALL_FILE = 2 << 10
_MTIME = 1_700_000_000
# gzip level of the pushed layers: 6 is what docker and podman push with.
_COMPRESSION_LEVEL = 6


@dataclass(frozen=True)
class BenchImage:
    reference: str
    manifest_digest: str
    compressed_bytes: int
    """Sum of the layer blobs' sizes: what a pull downloads."""
    unpacked_bytes: int
    """Sum of the files' sizes: what a pull writes into its layers."""
    files: int


def write_layers(directory: Path, layers: int, layer_mb: int) -> list[Path]:
    """Write ``layers`` uncompressed layer tarballs into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for position in range(layers):
        path = directory / f"layer-{position}.tar"
        _write_layer(path, position, layer_mb * MIB)
        paths.append(path)
    return paths


def _write_layer(path: Path, position: int, size: int) -> None:
    rng = random.Random(position)
    words = [_word(rng) for _ in range(2000)]
    lines = [" ".join(rng.choices(words, k=rng.randint(6, 14))) for _ in range(4096)]
    top = f"layer{position}"

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for sub in ("", "/random", "/text", "/etc"):
            _add_dir(tar, top + sub)
        kinds = (
            ("random", _RANDOM_SHARE, _RANDOM_FILE, ".bin"),
            ("text", _TEXT_SHARE, _TEXT_FILE, ".txt"),
            ("etc", _SMALL_SHARE, _SMALL_FILE, ".conf"),
        )
        for kind, share, file_size, suffix in kinds:
            count = max(1, round(size * share / file_size))
            for i in range(count):
                if kind == "random":
                    data = rng.randbytes(file_size)
                else:
                    data = _text(rng, lines, file_size)
                _add_file(tar, f"{top}/{kind}/{i:05d}{suffix}", data)


def _word(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choices(letters, k=rng.randint(2, 10)))


def _text(rng: random.Random, lines: list[str], size: int) -> bytes:
    # Lines average about 50 bytes; draw enough, then cut to the exact size.
    text = "\n".join(rng.choices(lines, k=size // 40 + 1)).encode()
    return text[:size]


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = _MTIME
    tar.addfile(info)


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = _MTIME
    tar.addfile(info, io.BytesIO(data))


async def build_and_push(
    root: Path, tarballs: list[Path], reference: str
) -> BenchImage:
    """Import ``tarballs`` as one image under ``root`` and push it."""
    config = Config(layer_compression_level=_COMPRESSION_LEVEL).with_root(root)
    with Core.open(config) as core, ExitStack() as stack:
        sources = [stack.enter_context(path.open("rb")) for path in tarballs]
        image = await import_image(core, sources, reference)
        digest = await push(core, reference)

    files = 0
    for path in tarballs:
        with tarfile.open(path) as tar:
            files += sum(1 for member in tar if member.isreg())
    return BenchImage(
        reference=reference,
        manifest_digest=digest,
        compressed_bytes=sum(layer.size for layer in image.layers),
        unpacked_bytes=image.size,
        files=files,
    )
