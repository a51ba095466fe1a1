"""Fifty clients at once creating, starting, waiting for and removing
containers: every request answered, nothing lost, nothing left."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from api_daemon import Daemon

CLIENTS = 50


def _one_life(daemon: Daemon, image: str, n: int) -> list[object]:
    created = daemon.request(
        "POST",
        f"/v1.50/containers/create?name=load-{n}",
        {"Image": image, "Cmd": ["sh", "-c", f"exit {n % 7}"]},
    )
    if created.status != 201:
        return [created.status, created.body.decode()]
    ident = created.json()["Id"]
    started = daemon.request("POST", f"/v1.50/containers/{ident}/start")
    waited = daemon.request("POST", f"/v1.50/containers/{ident}/wait")
    removed = daemon.request("DELETE", f"/v1.50/containers/{ident}")
    code = waited.json()["StatusCode"]
    if started.status != 204:
        return [created.status, started.status, started.body.decode()]
    return [created.status, started.status, code, removed.status]


def test_fifty_clients_at_once(daemon: Daemon, busybox: str) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        lives = list(pool.map(lambda n: _one_life(daemon, busybox, n), range(CLIENTS)))

    assert lives == [[201, 204, n % 7, 204] for n in range(CLIENTS)]
    assert daemon.request("GET", "/v1.50/containers/json?all=1").json() == []
    assert daemon.request("GET", "/_ping").status == 200
