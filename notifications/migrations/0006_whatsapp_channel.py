"""WhatsApp beside SMS and e-mail: the channel, the merchant's choice, the template and the provider's delivery
status of a message, the SMS sent instead of one; and ``notification_provider_owner``, the one question the status
webhook may ask across merchants.

The provider's status webhook arrives before any merchant is known, and row-level security shows the runtime role
no message then. This security-definer function of the owner answers, for a WhatsApp message id the provider gave,
the merchant and the id of the message, and nothing else: it reads no other column nor table, takes no pattern,
and is executable by the runtime and platform roles only (not PUBLIC). The webhook then updates the message as
that merchant's (notifications/webhooks.py), as the portal does for its links (customers/migrations/0005).
"""

import django.db.models.deletion
from django.db import migrations, models

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION notification_provider_owner(p_provider_id text)
RETURNS TABLE (merchant_id uuid, notification_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT n.merchant_id, n.id
      FROM notifications_notification n
     WHERE n.channel = 'whatsapp' AND n.provider_id <> '' AND n.provider_id = p_provider_id
$$;
REVOKE ALL ON FUNCTION notification_provider_owner(text) FROM PUBLIC;
"""


def function_install(apps, schema_editor) -> None:
    from django.conf import settings

    schema_editor.execute(FUNCTION_SQL, params=None)
    for role in (settings.DATABASE_APP_ROLE, settings.DATABASE_PLATFORM_ROLE):
        schema_editor.execute(
            f"GRANT EXECUTE ON FUNCTION notification_provider_owner(text) TO {schema_editor.quote_name(role)}"
        )


def function_drop(apps, schema_editor) -> None:
    schema_editor.execute("DROP FUNCTION IF EXISTS notification_provider_owner(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_customer_preferred_channel"),
        ("notifications", "0005_guarantor_copies"),
        ("taqsit", "0006_runtime_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="delivery_status",
            field=models.CharField(
                blank=True,
                choices=[("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed")],
                max_length=10,
                verbose_name="delivery status",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="delivery_status_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="delivery status at"),
        ),
        migrations.AddField(
            model_name="notification",
            name="fallback_for",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="fallback",
                to="notifications.notification",
                verbose_name="instead of",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="template",
            field=models.CharField(blank=True, max_length=100, verbose_name="template"),
        ),
        migrations.AddField(
            model_name="notification",
            name="template_parameters",
            field=models.JSONField(blank=True, default=list, verbose_name="template parameters"),
        ),
        migrations.AddField(
            model_name="notificationsettings",
            name="phone_channel",
            field=models.CharField(
                choices=[("whatsapp", "WhatsApp"), ("sms", "SMS")],
                default="whatsapp",
                help_text="For customers who chose no channel, when both WhatsApp and SMS are on.",
                max_length=10,
                verbose_name="customers' phone messages by",
            ),
        ),
        migrations.AddField(
            model_name="notificationsettings",
            name="whatsapp_enabled",
            field=models.BooleanField(
                default=False,
                help_text="A message that cannot reach a number on WhatsApp goes by SMS instead, when SMS is on.",
                verbose_name="send WhatsApp messages to customers",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="channel",
            field=models.CharField(
                choices=[("sms", "SMS"), ("email", "E-mail"), ("in_app", "In-app"), ("whatsapp", "WhatsApp")],
                max_length=10,
                verbose_name="channel",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("channel", "whatsapp"), models.Q(("provider_id", ""), _negated=True)),
                fields=["provider_id"],
                name="notification_whatsapp_id",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(("fallback_for__isnull", True), ("channel", "sms"), _connector="OR"),
                name="notification_fallback_is_sms",
            ),
        ),
        migrations.RunPython(function_install, function_drop),
    ]
