"""The Kubernetes CRI v1 server (RuntimeService and ImageService over gRPC).

Not built yet: it serves the core's containers and pods, which come first.
"""
