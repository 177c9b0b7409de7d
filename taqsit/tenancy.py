"""Tenant scoping: every row a request touches belongs to the request's merchant.

One mechanism for every interface: ``TenantModel`` gives each tenant-owned model a ``merchant`` and a
``for_merchant()`` queryset method; ``queryset_for_user`` narrows any queryset to what a user may see; and
``MerchantScopedMixin`` applies it in HTML views and DRF viewsets alike, so another merchant's object is a 404.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from taqsit.models import Merchant, TimeStampedModel, User


class TenantQuerySet(models.QuerySet):
    def for_merchant(self, merchant: Merchant | None) -> TenantQuerySet:
        if merchant is None:
            return self.none()
        return self.filter(merchant=merchant)


class TenantModel(TimeStampedModel):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def queryset_for_user(queryset: models.QuerySet, user: User | None) -> models.QuerySet:
    """Rows of ``queryset`` that ``user`` may see: its merchant's only; everything for a platform admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if getattr(user, "pk", None) is None:
        # Not a member of staff (a customer on the borrower API): the staff's scoping shows them nothing.
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.merchant_id is None:
        return queryset.none()
    return queryset.filter(merchant_id=user.merchant_id)


class MerchantScopedMixin:
    """For class-based HTML views and DRF viewsets: scope ``get_queryset()`` to the request's merchant."""

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return queryset_for_user(super().get_queryset(), self.request.user)
