"""Container networks: namespaces, CNI plugins, the network store and ports.

Layering, bottom up: ``netns`` (pinned namespaces), ``cni`` (the plugin
protocol) and ``cni_cache`` know nothing of Servin's state; ``store`` holds
the rows; ``conflist`` turns a network and an endpoint into a CNI
configuration; ``attach`` joins and leaves a container's networks at start
and stop; ``manage`` is what the ``network`` commands call; ``tidy``
collects what a crash left.
"""
