"""Top-level URLs: the admin for now; the pages and the API mount here."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "Taqsit"
admin.site.site_title = "Taqsit admin"

urlpatterns = [
    path("admin/", admin.site.urls),
]
