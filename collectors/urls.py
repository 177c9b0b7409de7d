from django.urls import path

from collectors import views

app_name = "collectors"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("assign/", views.worklist_assign, name="worklist-assign"),
    path("figures/", views.figures_view, name="figures"),
    path("plans/<uuid:pk>/", views.plan_panel, name="plan-panel"),
    path("plans/<uuid:pk>/contact/", views.contact_create, name="contact-create"),
    path("plans/<uuid:pk>/promise/", views.promise_create, name="promise-create"),
]
