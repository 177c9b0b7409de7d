from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectorsConfig(AppConfig):
    """The collector's worklist: overdue plans assigned to staff, their contacts and the customers' promises."""

    name = "collectors"
    verbose_name = _("Collectors")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from collectors.receivers import on_payment_changed, on_payment_recorded, on_payment_settled
        from payments.models import Payment
        from payments.signals import payment_recorded, payment_settled

        payment_recorded.connect(on_payment_recorded, sender=Payment, dispatch_uid="collectors.payment_recorded")
        payment_settled.connect(on_payment_settled, sender=Payment, dispatch_uid="collectors.payment_settled")
        # Refunds and voids send no signal of their own: the payment's saved status says it.
        post_save.connect(on_payment_changed, sender=Payment, dispatch_uid="collectors.payment_reversed")
