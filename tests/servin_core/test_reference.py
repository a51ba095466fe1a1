import pytest

from servin_core.errors import InvalidArgument
from servin_core.images.reference import parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("user/app", "docker.io/user/app:latest"),
        ("index.docker.io/user/app:v1", "docker.io/user/app:v1"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
        (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
        (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}"),
    ],
)
def test_references_normalize_as_docker_does(text: str, full: str) -> None:
    assert str(parse_reference(text)) == full


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/user/app:v1", "user/app:v1"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1"),
    ],
)
def test_familiar_names_drop_the_default_registry(text: str, familiar: str) -> None:
    assert parse_reference(text).familiar() == familiar


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("BusyBox", "lowercase"),
        ("busybox:", "invalid tag"),
        ("busybox@sha256:short", "digest"),
        ("a//b", "invalid repository name"),
        ("", "empty"),
        ("busybox:-bad", "invalid tag"),
    ],
)
def test_bad_references_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        parse_reference(text)
