from django.urls import path

from notifications import views
from notifications.webhooks import WhatsAppWebhookView

app_name = "notifications"
urlpatterns = [
    path("settings/messages/", views.notification_settings_view, name="settings"),
    # Public: the WhatsApp provider's status webhook (signed; notifications/webhooks.py).
    path("hooks/whatsapp/", WhatsAppWebhookView.as_view(), name="whatsapp-webhook"),
]
