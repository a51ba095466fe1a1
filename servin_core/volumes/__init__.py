"""Volumes: data that outlives the containers that use it.

The layers, bottom up: ``model`` (what a volume is, which names are
valid), ``store`` (rows of the ``volumes`` and ``container_volumes``
tables), ``local`` (the local driver: where a volume's data lives and how it
is mounted), ``copyup`` (filling a new volume from the image), ``attach``
(a container's volumes: bound at create, prepared at start, released at
removal) and ``operations`` (what the front ends call: create, ls, inspect,
rm, prune).
"""
