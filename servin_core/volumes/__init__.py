"""Volumes: data that outlives the containers that use it.

The layers, bottom up: ``model`` (what a volume is, which names are
valid), ``store`` (rows of the ``volumes`` and ``container_volumes``
tables), ``local`` (the local driver: where a volume's data lives and how it
is mounted), ``copyup`` (filling a new volume from the image),
``operations`` (what the front ends call: create, get, list, remove,
prune), ``inherit`` (``--volumes-from``), ``attach`` (a container's
volumes: bound at create, prepared at start, released at removal),
``hostmount`` (a stopped container's volumes mounted for ``cp``) and
``describe`` (docker's shapes of a volume and of a container's mounts).
"""
