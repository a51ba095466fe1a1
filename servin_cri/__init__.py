"""The Kubernetes CRI v1 server (RuntimeService and ImageService over gRPC).

Layers, from the socket in: ``server`` (grpc.aio on a unix socket) hands
every call to ``instrument`` (logging, error codes), which calls the
function ``routes`` names for the RPC with the shared ``node``. The
handlers are modules per RPC or group of small RPCs: ``status``,
``images``/``image_pull``, ``sandbox_run``/``sandbox_ops`` (pods, with
``pod_namespaces``, ``pod_pid``, ``sandbox_network`` and ``pod_store``),
``container_create``/``container_ops``, ``exec_sync`` and ``streams``.
``pb`` holds the modules scripts/gen-cri generates from ``proto``.
"""
