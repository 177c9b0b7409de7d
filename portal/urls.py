"""The portal's pages, under /portal/."""

from django.urls import path

from portal import actions, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("l/<str:token>/", views.link_entry, name="link"),
    path("logout/", views.logout_view, name="logout"),
    path("logged-out/", views.logged_out, name="logged-out"),
    path("language/", views.language_set, name="language"),
    path("m/<uuid:merchant_id>/", views.merchant_login, name="merchant-login"),
    path("m/<uuid:merchant_id>/code/", views.merchant_code, name="merchant-code"),
    path("m/<uuid:merchant_id>/register/", views.merchant_register, name="merchant-register"),
    path("apply/", actions.apply, name="apply"),
    path("apply/preview/", actions.apply_preview, name="apply-preview"),
    path("report/", actions.report, name="report"),
    path("plans/<uuid:plan_id>/", views.plan_detail, name="plan"),
    path("payments/", views.payment_list, name="payments"),
    path("payments/<uuid:payment_id>/receipt/", views.payment_receipt, name="receipt"),
    path("messages/", views.message_list, name="messages"),
    path("messages/read-all/", views.messages_read_all, name="messages-read-all"),
    path("messages/<uuid:notification_id>/", views.message_detail, name="message"),
]
