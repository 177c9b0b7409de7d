from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list_view, name="endpoint-list"),
    path("new/", views.endpoint_create_view, name="endpoint-create"),
    path("<uuid:pk>/", views.endpoint_detail_view, name="endpoint-detail"),
    path("<uuid:pk>/rotate-secret/", views.endpoint_rotate_view, name="endpoint-rotate"),
    path("<uuid:pk>/delete/", views.endpoint_delete_view, name="endpoint-delete"),
    path("deliveries/<uuid:pk>/send-again/", views.delivery_redeliver_view, name="delivery-redeliver"),
]
