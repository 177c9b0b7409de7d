from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_view, name="customer-list"),
    path("new/", views.customer_create_view, name="customer-create"),
    path("picker/", views.customer_picker, name="customer-picker"),
    path("<uuid:pk>/", views.customer_detail, name="customer-detail"),
    path("<uuid:pk>/edit/", views.customer_update_view, name="customer-update"),
    path("<uuid:pk>/portal-link/", views.customer_portal_link, name="customer-portal-link"),
]
