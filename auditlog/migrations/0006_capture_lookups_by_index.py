"""The audit trail's capture of plan items and payment allocations, as auditlog/capture.py generates it now: the
plan's merchant (a plan item's entry) and the payment's plan (an allocation's entry) are looked up by an index
again under row-level security.

The key was written ``(r ->> 'payment_id')::uuid`` in the lookup's WHERE, a function of the captured row that
PostgreSQL does not let an index use under row-level security (it is not leakproof): each allocation of a payment
read all the merchant's payments (1.6 s each with 80,000 of them). Taken in a sub-select of its own, the key is
a parameter of the lookup, an index condition. The entries are the same. Backwards: the functions of 0004.
"""

from django.db import migrations

INSTALL_SQL = r"""
CREATE OR REPLACE FUNCTION auditlog_capture_installments_planitem() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT t.merchant_id FROM installments_installmentplan t WHERE t.id = (SELECT (r ->> 'plan_id')::uuid)), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT t.merchant_id FROM installments_installmentplan t WHERE t.id = (SELECT (r ->> 'plan_id')::uuid)), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT t.merchant_id FROM installments_installmentplan t WHERE t.id = (SELECT (r ->> 'plan_id')::uuid)), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_payments_paymentallocation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT t.plan_id FROM payments_payment t WHERE t.id = (SELECT (r ->> 'payment_id')::uuid)), NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT t.plan_id FROM payments_payment t WHERE t.id = (SELECT (r ->> 'payment_id')::uuid)), NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT t.plan_id FROM payments_payment t WHERE t.id = (SELECT (r ->> 'payment_id')::uuid)), NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
"""

UNINSTALL_SQL = r"""
CREATE OR REPLACE FUNCTION auditlog_capture_installments_planitem() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_payments_paymentallocation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0005_archived_delete_function")]

    operations = [migrations.RunSQL(INSTALL_SQL, UNINSTALL_SQL)]
