from django.urls import path

from installments import views

app_name = "installments"
urlpatterns = [
    path("", views.plan_list_view, name="plan-list"),
    path("export.csv", views.plan_list_csv, name="plan-list-csv"),
    path("new/", views.plan_create_view, name="plan-create"),
    path("preview/", views.plan_preview, name="plan-preview"),
    path("exposure/", views.plan_exposure, name="plan-exposure"),
    path("pending/", views.plan_pending, name="plan-pending"),
    path("collections/", views.collections, name="collections"),
    path("collections/export.csv", views.collections_csv, name="collections-csv"),
    path("<uuid:pk>/", views.plan_detail, name="plan-detail"),
    path("<uuid:pk>/payoff/", views.plan_payoff, name="plan-payoff"),
    path("<uuid:pk>/guarantors/", views.plan_guarantor_add, name="plan-guarantor-add"),
    path(
        "<uuid:pk>/guarantors/<uuid:guarantor_pk>/remove/",
        views.plan_guarantor_remove,
        name="plan-guarantor-remove",
    ),
    path("<uuid:pk>/contract/", views.plan_contract, name="plan-contract"),
    path("<uuid:pk>/contract.pdf", views.plan_contract_pdf, name="plan-contract-pdf"),
    path("<uuid:pk>/contract/sign/", views.plan_contract_sign, name="plan-contract-sign"),
    path("<uuid:pk>/approve/", views.plan_approve_view, name="plan-approve"),
    path("<uuid:pk>/reject/", views.plan_reject_view, name="plan-reject"),
    path("<uuid:pk>/cancel/", views.plan_cancel_view, name="plan-cancel"),
    path("<uuid:pk>/reschedule/", views.plan_reschedule_view, name="plan-reschedule"),
    path("<uuid:pk>/reschedule/preview/", views.plan_reschedule_preview, name="plan-reschedule-preview"),
]
