"""PullImage: kubelet's pull, with the pod's registry credentials.

The credentials kubelet sends (from the pod's pull secrets) are used for
this pull only and never stored. They go to the registry they name, or to
the image's registry when they name none; mirrors get them only when they
are named themselves, since a mirror is another party.
"""

from __future__ import annotations

import base64
import binascii

from servin_core.errors import InvalidArgument
from servin_core.images.pull import pull
from servin_core.images.reference import parse_reference
from servin_core.registry.auth import Credentials
from servin_core.registry.credentials import normalize_server
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["credentials_of", "pull_image"]


def credentials_of(auth: pb.AuthConfig, image: str) -> Credentials | None:
    """The username and password in ``auth`` (given apart, or together in
    ``auth`` as base64 ``user:password``), or None when it holds none."""
    username, password = auth.username, auth.password
    if auth.auth:
        try:
            decoded = base64.b64decode(auth.auth, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise InvalidArgument(
                "image", image, "auth is not base64 of user:password"
            ) from e
        username, sep, password = decoded.partition(":")
        if not sep:
            raise InvalidArgument("image", image, "auth holds no ':'")
    if auth.identity_token:
        # TODO: identity tokens are OAuth2 refresh tokens, to exchange at the
        # realm (a POST registry/auth.py does not make yet).
        raise InvalidArgument("image", image, "identity tokens are not supported")
    if auth.registry_token:
        return Credentials(username, password, registry_token=auth.registry_token)
    if not username and not password:
        return None
    return Credentials(username, password)


async def pull_image(node: Node, request: pb.PullImageRequest) -> pb.PullImageResponse:
    name = request.image.image
    if not name:
        raise InvalidArgument("image", "", "no image reference given")
    ref = parse_reference(name)

    given = credentials_of(request.auth, name)
    credentials = {}
    if given is not None:
        server = request.auth.server_address or ref.domain
        credentials[normalize_server(server)] = given

    image = await pull(node.core, name, credentials=credentials)
    return pb.PullImageResponse(image_ref=image.id)
