"""One-time codes that log a customer in (or verify a self-registration), and the wrong guesses at them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from taqsit.models import Merchant


class PortalCode(models.Model):
    """A 6-digit code sent to a phone (E.164) or an e-mail address (lower-cased); only its HMAC is kept.

    A code for an unknown destination is stored too (and never sent): the answer and the work are the same
    whether or not the destination is a customer's."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Log in")
        REGISTER = "register", _("Registration")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant"))
    destination = models.CharField(_("destination"), max_length=254)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(_("code hash"), max_length=64)
    # A registration's details, kept until the code proves the phone.
    payload = models.JSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal code")
        verbose_name_plural = _("portal codes")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "destination", "-created_at"], name="portalcode_destination_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.destination}"


class PortalCodeFailure(models.Model):
    """A wrong code typed for a destination: five within 15 minutes lock it for 15 minutes."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant"))
    destination = models.CharField(_("destination"), max_length=254)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("wrong portal code")
        verbose_name_plural = _("wrong portal codes")
        indexes = [
            models.Index(fields=["merchant", "destination", "-created_at"], name="portalfail_destination_recent")
        ]

    def __str__(self) -> str:
        return self.destination
