"""A client for the OCI distribution API (Docker Registry HTTP API v2).

``endpoints`` says where a registry is reached, ``auth`` how it is
authenticated, ``credentials`` which logins are known, ``client`` carries
requests (retries, redirects, auth) and ``repository`` speaks the API's
operations. Pull and push, which use them, live in ``servin_core.images``.
"""

from servin_core.registry.client import RegistryClient
from servin_core.registry.endpoints import Endpoint, pull_endpoints, push_endpoint
from servin_core.registry.repository import Manifest, Repository

__all__ = [
    "Endpoint",
    "Manifest",
    "RegistryClient",
    "Repository",
    "pull_endpoints",
    "push_endpoint",
]
