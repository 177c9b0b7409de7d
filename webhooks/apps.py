from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from taqsit.events import event_emitted
        from webhooks.receivers import on_event_emitted

        event_emitted.connect(on_event_emitted, dispatch_uid="webhooks.event_emitted")
