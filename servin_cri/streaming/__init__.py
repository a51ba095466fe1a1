"""The CRI streaming server: exec, attach and port-forward over HTTP.

Layers, from the RPC in: ``rpcs`` (Exec, Attach, PortForward) check the
request and put it in ``tokens`` under a single-use token; the URL it
answers with points at ``http_server`` (listening as ``listener`` says),
which takes the token back and upgrades the connection to WebSocket
(``websocket``, ``ws_portforward``) or SPDY/3.1 (``spdy_upgrade``, then
``spdy_session`` over ``spdy_frames``; ``spdy_remote`` and
``spdy_portforward`` on top). Exec and attach see their client only
through ``remote_io``; ``exec_run`` and ``attach_run`` drive servin_core's
exec and attach with it, and ``pod_port`` reaches a port inside a pod.
``status`` makes the JSON the error stream ends with.
"""

__all__: list[str] = []
