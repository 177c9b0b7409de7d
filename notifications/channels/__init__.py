"""Delivery channels: e-mail through Django's e-mail backend (EMAIL_URL), SMS through ``sms.sms_backend()``.

In-app notifications need no channel: they are delivered when stored.
"""
