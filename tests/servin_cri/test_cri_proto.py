"""The committed stubs are what scripts/gen-cri makes of our .proto."""

import filecmp
import os
import subprocess
from pathlib import Path

from google.protobuf import descriptor_pool

from servin_cri.pb import api_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    env = {**os.environ, "SERVIN_CRI_OUT": str(tmp_path)}
    subprocess.run([str(ROOT / "scripts" / "gen-cri")], env=env, check=True)

    fresh = tmp_path / "servin_cri" / "pb"
    names = ["api_pb2.py", "api_pb2.pyi", "api_pb2_grpc.py"]
    same, mismatch, errors = filecmp.cmpfiles(
        fresh, ROOT / "servin_cri" / "pb", names, shallow=False
    )
    assert (same, mismatch, errors) == (names, [], [])


def test_the_services_are_those_of_runtime_v1() -> None:
    pool = descriptor_pool.Default()
    runtime = pool.FindServiceByName("runtime.v1.RuntimeService")
    image = pool.FindServiceByName("runtime.v1.ImageService")

    assert api_pb2.DESCRIPTOR.package == "runtime.v1"
    assert len(runtime.methods) + len(image.methods) == 43
    assert {m.name for m in image.methods} == {
        "ListImages",
        "StreamImages",
        "ImageStatus",
        "PullImage",
        "RemoveImage",
        "ImageFsInfo",
    }
    container_config = pool.FindMessageTypeByName("runtime.v1.ContainerConfig")
    assert container_config.fields_by_name["log_path"].number == 11
