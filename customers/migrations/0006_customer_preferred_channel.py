"""A customer's preferred channel for phone messages: WhatsApp, SMS, or the shop's choice."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_portal_link_owner_function"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="preferred_channel",
            field=models.CharField(
                blank=True,
                choices=[("", "The shop's choice"), ("whatsapp", "WhatsApp"), ("sms", "SMS")],
                default="",
                help_text="WhatsApp or SMS, when the shop uses both.",
                max_length=10,
                verbose_name="phone messages by",
            ),
        ),
    ]
