"""Top-level URLs: the staff pages, log-in and password pages, the language switch, the admin and the REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from taqsit.api import api_fallback
from taqsit.forms import PasswordResetForm
from taqsit.health import healthz, readyz
from taqsit.metrics import metrics_view
from taqsit.views import LoginView, favicon

# A database outage answers 503 with Retry-After, anything else Django's 500 page (taqsit/errors.py).
handler500 = "taqsit.errors.server_error"

admin.site.site_header = "Taqsit"
admin.site.site_title = "Taqsit admin"

auth_patterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(form_class=PasswordResetForm), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    # The API first: its requests are resolved without trying every page's pattern before it.
    path("api/", include("taqsit.api_urls")),
    re_path(r"^api$", api_fallback),  # the API's root without its slash, as every API address (taqsit/api.py)
    path("", include("taqsit.page_urls")),
    path("", include("notifications.urls")),  # the message settings page and the WhatsApp provider's webhook
    path("accounts/", include(auth_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("customers.urls")),
    path("plans/", include("installments.urls")),
    path("payments/", include("payments.urls")),
    path("worklist/", include("collectors.urls")),
    path("audit/", include("auditlog.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("imports/", include("imports.urls")),
    path("portal/", include("portal.urls")),  # the customers' portal (portal/auth.py: its own sessions)
    path("admin/", admin.site.urls),
    # Operations: probes and Prometheus (README.md, "docker-compose"); no trailing slash, as probes are written.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico whatever the page says: send them to the static file instead of a 404.
    path("favicon.ico", favicon, name="favicon"),
]
