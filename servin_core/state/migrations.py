"""Schema migrations, applied in order; the schema version is ``user_version``.

Append a migration to change the schema; never edit one that has landed, as
existing stores have already run it.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

_V1 = """
CREATE TABLE images (
    id TEXT PRIMARY KEY,                -- the config digest
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    created TEXT,                       -- from the config, RFC 3339
    os TEXT NOT NULL,
    architecture TEXT NOT NULL,
    variant TEXT,
    size INTEGER NOT NULL,              -- bytes of the unpacked layers
    added_at REAL NOT NULL
);

CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    digest TEXT NOT NULL,               -- the blob as stored
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,              -- bytes of the blob
    diff_id TEXT NOT NULL,              -- digest of the uncompressed tar
    chain_id TEXT NOT NULL,             -- the snapshot it unpacks to
    PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_chain ON image_layers(chain_id);
CREATE INDEX image_layers_digest ON image_layers(digest);

CREATE TABLE tags (
    name TEXT PRIMARY KEY,              -- docker.io/library/busybox:latest
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tagged_at REAL NOT NULL
);
CREATE INDEX tags_image ON tags(image_id);

CREATE TABLE repo_digests (
    repository TEXT NOT NULL,           -- docker.io/library/busybox
    digest TEXT NOT NULL,               -- manifest or index digest
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    PRIMARY KEY (repository, digest)
);
CREATE INDEX repo_digests_image ON repo_digests(image_id);

-- Blobs an image needs besides its manifest, config and layers, such as the
-- index it was pulled through.
CREATE TABLE image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
);

CREATE TABLE snapshots (
    chain_id TEXT PRIMARY KEY,
    parent TEXT,
    diff_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);

-- Users of an image that keep it from being removed: containers, later.
CREATE TABLE image_holds (
    image_id TEXT NOT NULL,
    holder_kind TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    PRIMARY KEY (image_id, holder_kind, holder_id)
);

-- A lease protects content that an operation in progress has written and no
-- image references yet. Its owner is a process token: a lease whose owner
-- died is stale, and what only it protected is garbage.
CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                 -- 'blob' or 'snapshot'
    ident TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, ident)
);
CREATE INDEX lease_resources_ident ON lease_resources(kind, ident);

-- Where a blob is known to exist remotely, for cross-repository mounts.
CREATE TABLE blob_sources (
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY (digest, registry, repository)
);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    type TEXT NOT NULL,                 -- image, container, volume, network...
    action TEXT NOT NULL,               -- pull, push, tag, untag, delete...
    actor_id TEXT NOT NULL,
    attributes TEXT NOT NULL            -- JSON object
);
CREATE INDEX events_time ON events(time);
"""

MIGRATIONS: list[str] = [_V1]

_V2 = """
CREATE TABLE containers (
    id TEXT PRIMARY KEY,                -- 64 hex digits
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    image_name TEXT NOT NULL,           -- as the user gave it
    created REAL NOT NULL,
    config TEXT NOT NULL,               -- ContainerConfig as JSON
    lowers TEXT NOT NULL,               -- JSON list of chain IDs, top first
    runtime TEXT NOT NULL,              -- crun or runc
    state TEXT NOT NULL,                -- created, running, paused, exited...
    pid INTEGER NOT NULL DEFAULT 0,
    conmon_pid INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    oom_killed INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    finished_at REAL,
    restart_count INTEGER NOT NULL DEFAULT 0,
    stopped_by_user INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
"""

MIGRATIONS.append(_V2)

# Volumes and networks (P3). A container's use of a volume or a network is a
# row of its own, so that "in use" is a query and removing the container
# (ON DELETE CASCADE) releases it; the network's kernel side (veth, netns,
# firewall rules, IP lease) is torn down before the row goes.
_V3 = """
CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL DEFAULT 'local',
    labels TEXT NOT NULL DEFAULT '{}',  -- JSON object
    options TEXT NOT NULL DEFAULT '{}', -- JSON object: driver options
    anonymous INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);

CREATE TABLE container_volumes (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume TEXT NOT NULL REFERENCES volumes(name),
    target TEXT NOT NULL,               -- the mount point in the container
    copy_up INTEGER NOT NULL DEFAULT 1, -- fill from the image on the next start
    PRIMARY KEY (container_id, target)
);
CREATE INDEX container_volumes_volume ON container_volumes(volume);

CREATE TABLE networks (
    id TEXT PRIMARY KEY,                -- 64 hex digits
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL DEFAULT 'bridge',
    bridge TEXT NOT NULL,               -- the host interface, servin0...
    subnet TEXT NOT NULL,               -- CIDR
    gateway TEXT NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0,
    dns INTEGER NOT NULL DEFAULT 1,     -- containers resolve each other by name
    labels TEXT NOT NULL DEFAULT '{}',  -- JSON object
    options TEXT NOT NULL DEFAULT '{}', -- JSON object: driver options
    created REAL NOT NULL
);

CREATE TABLE endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id TEXT NOT NULL REFERENCES networks(id),
    interface TEXT NOT NULL,            -- eth0, eth1... inside the container
    ip TEXT NOT NULL DEFAULT '',
    mac TEXT NOT NULL DEFAULT '',
    aliases TEXT NOT NULL DEFAULT '[]', -- JSON list of names
    static_ip TEXT NOT NULL DEFAULT '', -- the address --ip asked for
    ports TEXT NOT NULL DEFAULT '[]',   -- JSON: ports published while running
    PRIMARY KEY (container_id, network_id)
);
CREATE INDEX endpoints_network ON endpoints(network_id);
"""

MIGRATIONS.append(_V3)

# CRI pod sandboxes (P3). A pod holds its network, IPC and UTS namespaces
# pinned to files (no pause process); its containers are ordinary
# containers with a row here tying them to the pod and keeping what
# kubelet asked for (ON DELETE CASCADE: removing the container drops it).
_V4 = """
CREATE TABLE pods (
    id TEXT PRIMARY KEY,                -- 64 hex digits
    name TEXT NOT NULL,                 -- kubelet's metadata
    namespace TEXT NOT NULL,
    uid TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,                -- ready or notready
    created REAL NOT NULL,
    config TEXT NOT NULL,               -- the PodSandboxConfig, protobuf JSON
    runtime_handler TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',        -- from CNI; '' on loopback only
    UNIQUE (namespace, name, uid, attempt)
);

CREATE TABLE pod_containers (
    container_id TEXT PRIMARY KEY REFERENCES containers(id) ON DELETE CASCADE,
    pod_id TEXT NOT NULL REFERENCES pods(id),
    name TEXT NOT NULL,                 -- kubelet's metadata
    attempt INTEGER NOT NULL,
    config TEXT NOT NULL,               -- the CRI ContainerConfig, protobuf JSON
    UNIQUE (pod_id, name, attempt)
);
CREATE INDEX pod_containers_pod ON pod_containers(pod_id);
"""

MIGRATIONS.append(_V4)
