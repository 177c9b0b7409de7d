"""The core pages: staff and merchant settings (log-in and password pages are in taqsit/urls.py), and the home
page's address. The dashboard itself, view and template, is payments' (it reads the statistics); its address and
name (``taqsit:dashboard``, the log-in redirect) stay here, as a URL module may join any app's views."""

from django.urls import path

from payments.views import DashboardView
from taqsit import views

app_name = "taqsit"
urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_create, name="staff-create"),
    path("staff/<uuid:pk>/", views.staff_update, name="staff-update"),
    path("settings/", views.merchant_settings, name="merchant-settings"),
]
