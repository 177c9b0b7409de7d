"""The API's JWT authentication: simplejwt's, with the user's merchant loaded in the same query.

Every API request reads ``request.user.merchant`` (tenancy, permissions, the merchant's currency and day), so
loading it with the user saves one query per request. simplejwt's own checks (inactive user, token revoked by a
password change) are kept: only the queryset it reads the user from changes.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication


class MerchantJWTAuthentication(JWTAuthentication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user_model = get_user_model()
        # simplejwt reads ``self.user_model.objects.get(...)`` and catches ``self.user_model.DoesNotExist``.
        self.user_model = SimpleNamespace(
            objects=user_model.objects.select_related("merchant"), DoesNotExist=user_model.DoesNotExist
        )


class MerchantJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (``jwtAuth``, a bearer JWT) for it, as drf-spectacular gives simplejwt's."""

    target_class = "taqsit.authentication.MerchantJWTAuthentication"
