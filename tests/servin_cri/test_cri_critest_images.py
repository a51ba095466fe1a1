"""The set-up that serves critest's images (tests/cri_images.py): its
stand-ins reach a CRI client under critest's own names, through the
mirrors of the configuration it writes."""

from pathlib import Path

from cri_images import publish, write_config
from cri_kit import StartCri, exec_sync, pod_config, run_pod
from registry_server import start_registry

from servin_core.config import load_config
from servin_cri.pb import api_pb2 as pb

BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
NGINX = "registry.k8s.io/e2e-test-images/nginx:1.14-2"
USER_IMAGE = "gcr.io/k8s-staging-cri-tools/test-image-user-username"


async def test_critest_names_are_pulled_through_the_mirror(
    start_cri: StartCri, tmp_path: Path
) -> None:
    registry = start_registry(tmp_path / "registry")
    try:
        published = await publish(
            registry.host, tmp_path / "build", [NGINX, USER_IMAGE]
        )
        config = load_config(write_config(tmp_path / "servin.toml", registry.host))
        cri = await start_cri(config)

        for name in (NGINX, USER_IMAGE):
            await cri.images.PullImage(
                pb.PullImageRequest(image=pb.ImageSpec(image=name))
            )

        nginx = await cri.images.ImageStatus(
            pb.ImageStatusRequest(image=pb.ImageSpec(image=NGINX))
        )
        user = await cri.images.ImageStatus(
            pb.ImageStatusRequest(image=pb.ImageSpec(image=USER_IMAGE))
        )
        access_log = registry.log_text()
    finally:
        registry.stop()

    assert sorted(published) == sorted([NGINX, USER_IMAGE])
    assert NGINX in nginx.image.repo_tags
    assert f"{USER_IMAGE}:latest" in user.image.repo_tags
    # What critest checks of the USER variants.
    assert user.image.username == "www-data"
    assert nginx.image.id != user.image.id
    # Both came from the local registry, asked for under their own paths.
    assert "/v2/e2e-test-images/nginx/manifests/1.14-2" in access_log
    assert "/v2/k8s-staging-cri-tools/test-image-user-username/manifests" in access_log


async def test_a_shell_of_its_own_runs_a_masked_ls_and_is_refused(
    start_cri: StartCri, tmp_path: Path
) -> None:
    # critest's MaskedPaths spec masks /bin/ls and expects `sh -c ls` to
    # fail. busybox-static's sh would run ls as an applet; a dynamically
    # linked shell given to the set-up (dash here, always on Debian) must
    # run in the stand-in with its libraries, and search PATH.
    registry = start_registry(tmp_path / "registry")
    try:
        await publish(registry.host, tmp_path / "build", [BUSYBOX], Path("/bin/dash"))
        config = load_config(write_config(tmp_path / "servin.toml", registry.host))
        cri = await start_cri(config)
        await cri.images.PullImage(
            pb.PullImageRequest(image=pb.ImageSpec(image=BUSYBOX))
        )
    finally:
        registry.stop()

    sandbox = pod_config(tmp_path)
    pod = await run_pod(cri, sandbox)
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="masked"),
        image=pb.ImageSpec(image=BUSYBOX),
        command=["sleep", "3600"],
        linux=pb.LinuxContainerConfig(
            security_context=pb.LinuxContainerSecurityContext(masked_paths=["/bin/ls"])
        ),
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod, config=container_config, sandbox_config=sandbox
        )
    )
    container = created.container_id
    await cri.runtime.StartContainer(pb.StartContainerRequest(container_id=container))

    listed = await exec_sync(cri, container, "/bin/sh", "-c", "ls")
    echoed = await exec_sync(cri, container, "/bin/sh", "-c", "echo $((6 * 7))")

    assert listed.exit_code != 0
    assert listed.stderr.decode().endswith("ls: Permission denied\n")
    assert (echoed.exit_code, echoed.stdout) == (0, b"42\n")
