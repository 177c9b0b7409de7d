"""What every page's template needs: the signed-in user's merchant, its currency, and what the role allows."""

from __future__ import annotations

from django.http import HttpRequest

from taqsit.permissions import Action, user_can


def merchant_context(request: HttpRequest) -> dict:
    """``merchant``, ``currency`` (for the ``money`` filter) and ``can`` (``can.plan_decide``...): the role
    table decides which buttons a page shows, the same table the views enforce."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"merchant": None, "currency": "", "can": {}}
    merchant = user.merchant
    return {
        "merchant": merchant,
        "currency": merchant.currency if merchant is not None else "",
        "can": {action.name.lower(): user_can(user, action) for action in Action},
    }
