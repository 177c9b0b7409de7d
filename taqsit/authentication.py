"""The API's JWT authentication: simplejwt's, with the user's merchant loaded in the same query.

Every API request reads ``request.user.merchant`` (tenancy, permissions, the merchant's currency and day), so
loading it with the user saves one query per request; the query is compiled once (taqsit/compiled.py). simplejwt's
own checks (inactive user, token revoked by a password change) are kept: only how it reads the user changes.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from taqsit.compiled import CompiledQuery


class _UserWithMerchant:
    """What simplejwt reads the user with (``user_model.objects.get(id=...)``): the user and its merchant in one
    query, compiled once (taqsit/compiled.py), since every API request asks it."""

    query = CompiledQuery(lambda user_id: get_user_model().objects.select_related("merchant").filter(pk=user_id))

    def get(self, **lookup):
        (user_id,) = lookup.values()
        try:
            user_id = uuid.UUID(str(user_id))
        except ValueError:
            raise get_user_model().DoesNotExist from None
        found = self.query.instances(user_id)
        if not found:
            raise get_user_model().DoesNotExist
        return found[0]


class MerchantJWTAuthentication(JWTAuthentication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # simplejwt reads ``self.user_model.objects.get(...)`` and catches ``self.user_model.DoesNotExist``.
        self.user_model = SimpleNamespace(objects=_UserWithMerchant(), DoesNotExist=get_user_model().DoesNotExist)


class RevocableTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh, refused once the user's password changed (a change, a reset, the owner's or the
    admin's): the token carries a hash of the password it was issued under (``CHECK_REVOKE_TOKEN``), which
    simplejwt checks on every request but not on refresh."""

    default_error_messages = {
        **TokenRefreshSerializer.default_error_messages,
        "password_changed": _("The password has changed since this token was issued: log in again."),
    }

    def validate(self, attrs: dict) -> dict:
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None:
            # simplejwt's own lookup would raise DoesNotExist, a 500.
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        if refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(self.error_messages["password_changed"], "password_changed")
        return super().validate(attrs)


class MerchantJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (``jwtAuth``, a bearer JWT) for it, as drf-spectacular gives simplejwt's."""

    target_class = "taqsit.authentication.MerchantJWTAuthentication"
