"""Container networks: namespaces, CNI plugins, the network store and ports.

Layering, bottom up:

- ``netns`` (pinned namespaces), ``cni`` (the plugin protocol),
  ``cni_version`` (which version the installed plugins speak) and
  ``cni_cache`` (what each ADD was given, for its DEL) know nothing of
  Servin's state;
- ``model`` and ``store`` are the networks and endpoints and their rows;
  ``subnets``, ``ports`` and ``forwarding`` check and choose addresses,
  host ports and the host's forwarding switch;
- ``conflist`` turns a network and an endpoint into a CNI configuration;
  ``plan`` decides at create which networks a container joins; ``attach``
  joins and leaves them at start and stop; ``hostsfile`` keeps a running
  container's /etc/hosts in step with ``connect`` and ``disconnect``;
- ``manage`` is what the ``network`` commands call, ``describe`` what
  ``inspect`` and ``ps`` show, ``tidy`` what collects a crash's leftovers;
- ``dns`` is the embedded name server of user networks.
"""
