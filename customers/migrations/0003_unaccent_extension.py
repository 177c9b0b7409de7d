"""The unaccent extension, for a customer search that ignores accents ("jose" finds "José")."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [
        # A trusted extension (PostgreSQL 13+): the database's owner may create it without being a superuser.
        # Kept on the way back: another app's query may use it by then.
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS unaccent", reverse_sql=migrations.RunSQL.noop),
    ]
