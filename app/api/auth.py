"""Authenticators: who is acting, taken from the request, never from input.

An authenticator is any callable ``(request) -> str | None`` (or a coroutine
function); it returns the user id, None for the default user, or raises
``UnauthenticatedError`` / ``ForbiddenError`` to refuse the request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from app.errors import BadRequestError

Authenticator = Callable[[Request], "str | Awaitable[str | None] | None"]
_USER = re.compile(r"^[\w.@+\-:]{1,128}$")


def anonymous(request: Request) -> str | None:
    """Everyone is the default user (``Settings.default_user``)."""
    return None


def user_from_header(header: str = "x-specql-user") -> Authenticator:
    """Development only: trust the user named in a request header.

    Anyone who can reach the server can claim any user this way; put a real
    authenticator (a session or token check) in front of production data.
    """

    def authenticate(request: Request) -> str | None:
        value = request.headers.get(header)
        if value is None:
            return None
        if not _USER.match(value):
            raise BadRequestError(
                f"header {header} must be 1 to 128 letters, digits or . @ + - : _"
            )
        return value

    return authenticate
