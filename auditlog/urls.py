from django.urls import path

from auditlog import views

app_name = "auditlog"
urlpatterns = [
    path("plans/<uuid:pk>/", views.plan_history_view, name="plan-history"),
    path("customers/<uuid:pk>/", views.customer_history_view, name="customer-history"),
]
