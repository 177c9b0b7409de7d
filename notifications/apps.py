from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from installments.models import InstallmentPlan
        from installments.signals import plan_decided
        from notifications.receivers import on_payment_recorded, on_payment_settled, on_plan_decided
        from payments.models import Payment
        from payments.signals import payment_recorded, payment_settled

        plan_decided.connect(on_plan_decided, sender=InstallmentPlan, dispatch_uid="notifications.plan_decided")
        payment_recorded.connect(on_payment_recorded, sender=Payment, dispatch_uid="notifications.payment_recorded")
        payment_settled.connect(on_payment_settled, sender=Payment, dispatch_uid="notifications.payment_settled")
