"""The borrower API, under /api/portal/ (included by taqsit/api_urls.py before the API's fallback)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from portal import api

# The customer's own data; names api:portal-plan-list, api:portal-plan-apply, api:portal-payment-list...
router = SimpleRouter()
router.register("plans", api.PortalPlanViewSet, basename="portal-plan")
router.register("payments", api.PortalPaymentViewSet, basename="portal-payment")
router.register("notifications", api.PortalNotificationViewSet, basename="portal-notification")
router.register("products", api.PortalProductViewSet, basename="portal-product")

urlpatterns = [
    path("auth/code/", api.PortalCodeRequestView.as_view(), name="portal-auth-code"),
    path("auth/token/", api.PortalCodeTokenView.as_view(), name="portal-auth-token"),
    path("auth/register/", api.PortalRegisterView.as_view(), name="portal-auth-register"),
    path("auth/link/", api.PortalLinkTokenView.as_view(), name="portal-auth-link"),
    path("auth/token/refresh/", api.PortalTokenRefreshView.as_view(), name="portal-auth-refresh"),
    path("me/", api.PortalMeView.as_view(), name="portal-me"),
    path("", include(router.urls)),
]
