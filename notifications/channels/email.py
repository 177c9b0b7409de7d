"""E-mail through Django's configured backend (EMAIL_URL: SMTP in production, console or file in development)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage


def email_send(*, to: str, subject: str, body: str, notification_id: str) -> str:
    """Send one plain-text e-mail; raises whatever the backend raises. Returns the notification's id as the
    message's reference (also in the X-Taqsit-Notification header, to match bounces to notifications)."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"X-Taqsit-Notification": notification_id},
    )
    message.send(fail_silently=False)
    return notification_id
