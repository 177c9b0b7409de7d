"""Top-level URLs: the admin and the REST API; the pages mount here too."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("taqsit.api_urls")),
]
