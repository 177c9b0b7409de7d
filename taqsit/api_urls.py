"""The REST API under /api/ (DESIGN.md, "The REST API")."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from auditlog.api import AuditEntryViewSet
from customers.api import CustomerViewSet
from imports.api import ImportJobViewSet
from installments.api import CustomerPlanViewSet, ExposureView, InstallmentViewSet, PlanViewSet, ProductViewSet
from notifications.api import NotificationSettingsView, NotificationViewSet
from payments.api import (
    CharityDisbursementViewSet,
    CustomerPaymentViewSet,
    PaymentViewSet,
    PlanPaymentViewSet,
    PlanSettleView,
    StatsView,
)
from taqsit.api import (
    LogoutView,
    MerchantView,
    MeView,
    RegisterView,
    TokenRefreshRotateView,
    TokenView,
    UserViewSet,
    api_fallback,
)
from webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI; its HTML renderer has no page for OPTIONS (a 500), so only GET and HEAD are offered."""

    http_method_names = ["get", "head"]


router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
router.register("customers", CustomerViewSet, basename="customer")
router.register("products", ProductViewSet, basename="product")
router.register("installments/plans", PlanViewSet, basename="plan")
router.register("installments/installments", InstallmentViewSet, basename="installment")
router.register("installments/payments", PaymentViewSet, basename="payment")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("charity-disbursements", CharityDisbursementViewSet, basename="charity-disbursement")
router.register("audit-log", AuditEntryViewSet, basename="audit-entry")
# Deliveries before endpoints: "deliveries" is no endpoint's id.
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("imports", ImportJobViewSet, basename="import")

# The nested lists, each served by the app that owns its rows, at the parent's address and with the names the
# parent's own action would have (``customer-plans``): a router of their own, as a basename is registered once.
nested_router = DefaultRouter()
nested_router.include_root_view = False
nested_router.register("customers", CustomerPlanViewSet, basename="customer")
nested_router.register("installments/plans", PlanPaymentViewSet, basename="plan")
nested_customer_payments = DefaultRouter()
nested_customer_payments.include_root_view = False
nested_customer_payments.register("customers", CustomerPaymentViewSet, basename="customer")

app_name = "api"
urlpatterns = [
    path("auth/register/", RegisterView.as_view(), name="register"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/refresh/", TokenRefreshRotateView.as_view(), name="token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("auth/me/", MeView.as_view(), name="me"),
    path("merchant/", MerchantView.as_view(), name="merchant"),
    path("notification-settings/", NotificationSettingsView.as_view(), name="notification-settings"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("installments/plans/<uuid:pk>/settle/", PlanSettleView.as_view(), name="plan-settle"),
    path("installments/exposure/", ExposureView.as_view(), name="exposure"),
    # The collector's worklist (collectors/api_urls.py).
    path("collectors/", include("collectors.api_urls")),
    # The borrower API: customers' tokens only (portal/authentication.py).
    path("portal/", include("portal.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
    path("", include(nested_router.urls)),
    path("", include(nested_customer_payments.urls)),
]

# Keep last: an /api/ address without its trailing slash is answered by the slashed one's view (no redirect,
# which a client would resend as a GET, losing a POST's body); an address no route matches (an id with a dot, an
# unknown status) is DRF's JSON 404, not the HTML page. The schema documents the slashed form only.
urlpatterns.append(re_path(r"^.*$", api_fallback, name="not-found"))
