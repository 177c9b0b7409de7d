"""``portal_link_owner``: the one question the runtime role may ask across merchants, whose link is this hash.

A personal link arrives before any merchant is known, and row-level security shows the runtime role no link
then. This security-definer function of the owner (who is not subject to the policies) answers that question
and nothing else: for the SHA-256 of a link not revoked it returns the link's merchant and customer, for
anything else no row (whether the link has expired is the application's clock's to say, read for the merchant). It reads no other column nor table, takes no pattern, and is executable
by the runtime and platform roles only (not PUBLIC). The request then sets that merchant (``merchant_scope``)
and reads the link and its customer as the runtime role, in whatever transaction it is in
(customers/portal_links.py, ``portal_link_resolve``).
"""

from django.db import migrations

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION portal_link_owner(p_token_hash text)
RETURNS TABLE (merchant_id uuid, customer_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT l.merchant_id, l.customer_id
      FROM customers_portallink l
     WHERE l.token_hash = p_token_hash AND l.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION portal_link_owner(text) FROM PUBLIC;
"""


def function_install(apps, schema_editor) -> None:
    from django.conf import settings

    schema_editor.execute(FUNCTION_SQL, params=None)
    for role in (settings.DATABASE_APP_ROLE, settings.DATABASE_PLATFORM_ROLE):
        schema_editor.execute(f"GRANT EXECUTE ON FUNCTION portal_link_owner(text) TO {schema_editor.quote_name(role)}")


def function_drop(apps, schema_editor) -> None:
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_link_owner(text)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_portal_link_and_origin"), ("taqsit", "0006_runtime_roles")]

    operations = [migrations.RunPython(function_install, function_drop)]
