"""The borrower API, under /api/portal/ (included by taqsit/api_urls.py before the API's fallback)."""

from django.urls import path

from portal import api

urlpatterns = [
    path("auth/code/", api.PortalCodeRequestView.as_view(), name="portal-auth-code"),
    path("auth/token/", api.PortalCodeTokenView.as_view(), name="portal-auth-token"),
    path("auth/register/", api.PortalRegisterView.as_view(), name="portal-auth-register"),
    path("auth/link/", api.PortalLinkTokenView.as_view(), name="portal-auth-link"),
    path("auth/token/refresh/", api.PortalTokenRefreshView.as_view(), name="portal-auth-refresh"),
    path("me/", api.PortalMeView.as_view(), name="portal-me"),
]
