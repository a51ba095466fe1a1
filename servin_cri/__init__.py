"""The Kubernetes CRI v1 server (RuntimeService and ImageService over gRPC).

Layers, from the socket in: ``server`` (grpc.aio on a unix socket, and on
TCP as ``tcp`` allows) hands every call to ``instrument`` (logging, error
codes), which calls the function ``routes`` names for the RPC with the
shared ``node``. The handlers are modules per RPC or group of small RPCs:

- runtime: ``status``;
- images: ``images``, ``image_pull``;
- pods: ``sandbox_run``, ``sandbox_ops``, on ``sandbox`` (shared helpers),
  ``pod_namespaces`` (pinned namespaces, sysctls), ``pod_pid`` (the PID
  holder), ``sandbox_network`` and ``default_network`` (CNI), ``cni``
  (finding a usable configuration), ``pod_reconcile`` and ``pod_store``;
- containers: ``container_create``, ``container_ops``, ``container_update``,
  ``container_log``, ``container_events``, ``exec_sync``, ``stats``;
- ``streams``: the Stream* variants of the List RPCs;
- ``streaming``: the server behind Exec, Attach and PortForward's URLs.

``pb`` holds the modules scripts/gen-cri generates from ``proto``.
"""
