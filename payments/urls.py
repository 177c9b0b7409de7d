from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("new/<uuid:plan_pk>/", views.payment_create, name="payment-create"),
    path("settle/<uuid:plan_pk>/", views.plan_settle_view, name="plan-settle"),
    path("charity/", views.charity_fees_view, name="charity-fees"),
    path("<uuid:pk>/", views.payment_receipt, name="payment-receipt"),
    path("<uuid:pk>/proof/", views.payment_proof, name="payment-proof"),
    path("<uuid:pk>/complete/", views.payment_complete_view, name="payment-complete"),
    path("<uuid:pk>/fail/", views.payment_fail_view, name="payment-fail"),
    path("<uuid:pk>/refund/", views.payment_refund_view, name="payment-refund"),
    path("<uuid:pk>/void/", views.payment_void_view, name="payment-void"),
]
