from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from installments.models import InstallmentPlan
        from installments.signals import plan_activated
        from payments.receivers import on_plan_activated

        plan_activated.connect(on_plan_activated, sender=InstallmentPlan, dispatch_uid="payments.down_payment")
