"""The collector's worklist under /api/collectors/ (included by taqsit/api_urls.py before the API's fallback)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from collectors import api

# Names api:collector-assignment-list, api:collector-contact-detail, api:collector-promise-list...
router = SimpleRouter()
router.register("assignments", api.AssignmentViewSet, basename="collector-assignment")
router.register("contacts", api.ContactViewSet, basename="collector-contact")
router.register("promises", api.PromiseViewSet, basename="collector-promise")

urlpatterns = [
    path("figures/", api.FiguresView.as_view(), name="collector-figures"),
    path("", include(router.urls)),
]
