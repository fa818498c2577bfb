"""HTTP: the GraphQL endpoint, GraphiQL, health and readiness."""

from app.api.app import ApiOptions, create_app
from app.api.auth import Authenticator, anonymous, user_from_header

__all__ = ["ApiOptions", "Authenticator", "anonymous", "create_app", "user_from_header"]
