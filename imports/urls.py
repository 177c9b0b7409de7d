from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("<uuid:pk>/", views.import_detail, name="import-detail"),
    path("<uuid:pk>/confirm/", views.import_confirm_view, name="import-confirm"),
    path(
        "templates/<str:kind>.<str:file_format>/<str:language>/",
        views.import_template,
        name="import-template",
    ),
]
