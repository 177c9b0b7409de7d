"""The runtime and platform roles, their privileges, and row-level security on the tenant tables that exist so
far (taqsit/rls.py). Every later ``migrate`` applies the same to the tables made after this one
(taqsit/apps.py), so a new app's tables with ``merchant_id`` are covered without a migration of their own."""

from django.db import migrations

from taqsit.rls import database_secure_operation


class Migration(migrations.Migration):
    dependencies = [("taqsit", "0005_merchant_portal_policy")]

    operations = [migrations.RunPython(database_secure_operation, migrations.RunPython.noop)]
