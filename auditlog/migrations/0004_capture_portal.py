"""The capture triggers again, as auditlog/capture.py generates them now: every entry records the customer who
acted on the portal (``actor_customer_id``, from the context's ``actor_customer``), and a customer's portal links
are captured (their token hash masked).

The functions of the tables already tracked are replaced; the new table gets its triggers. Backwards: the new
table's triggers go, and the functions of 0002 come back.
"""

from django.db import migrations

INSTALL_SQL = r"""
CREATE OR REPLACE FUNCTION auditlog_mask(data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT data || COALESCE(
        (SELECT jsonb_object_agg(k, to_jsonb('********'::text)) FROM unnest(keys) AS k WHERE data ? k), '{}'::jsonb
    )
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_taqsit_merchant() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'last_plan_number']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'last_plan_number']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'last_plan_number']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'last_plan_number']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_taqsit_user() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'last_login']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'last_login']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'last_login']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'last_login']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_customers_customer() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_customers_portallink() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.portallink', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['token_hash']::text[]), auditlog_mask(change.after, ARRAY['token_hash']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.portallink', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['token_hash']::text[]), auditlog_mask(change.after, ARRAY['token_hash']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.portallink', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['token_hash']::text[]), auditlog_mask(change.after, ARRAY['token_hash']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_product() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_installmentplan() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_installment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_latefee() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_payments_payment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_notifications_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'body']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'body']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'body']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'body']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER auditlog_capture_insert AFTER INSERT ON customers_portallink REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_customers_portallink();
CREATE TRIGGER auditlog_capture_update AFTER UPDATE ON customers_portallink REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_customers_portallink();
CREATE TRIGGER auditlog_capture_delete AFTER DELETE ON customers_portallink REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_customers_portallink();
"""

UNINSTALL_SQL = r"""DROP TRIGGER IF EXISTS auditlog_capture_insert ON customers_portallink;
DROP TRIGGER IF EXISTS auditlog_capture_update ON customers_portallink;
DROP TRIGGER IF EXISTS auditlog_capture_delete ON customers_portallink;
DROP FUNCTION IF EXISTS auditlog_capture_customers_portallink();

CREATE OR REPLACE FUNCTION auditlog_mask(data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT data || COALESCE(
        (SELECT jsonb_object_agg(k, to_jsonb('********'::text)) FROM unnest(keys) AS k WHERE data ? k), '{}'::jsonb
    )
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_taqsit_merchant() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'last_plan_number']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'last_plan_number']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'id')::uuid, 'taqsit.merchant', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'last_plan_number']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'last_plan_number']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_taqsit_user() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'last_login']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'last_login']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'taqsit.user', r ->> 'id', lower(TG_OP), auditlog_mask(change.before, ARRAY['password']::text[]), auditlog_mask(change.after, ARRAY['password']::text[]), NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'last_login']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'last_login']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION auditlog_capture_customers_customer() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'customers.customer', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'id')::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_product() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.product', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_installmentplan() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installmentplan', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'id')::uuid, (r ->> 'customer_id')::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_planitem() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (SELECT p.merchant_id FROM installments_installmentplan p WHERE p.id = (r ->> 'plan_id')::uuid), 'installments.planitem', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_installment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.installment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_installments_latefee() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'installments.latefee', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_payments_payment() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.payment', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (r ->> 'plan_id')::uuid, NULL::uuid
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
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'payments.paymentallocation', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, (SELECT p.plan_id FROM payments_payment p WHERE p.id = (r ->> 'payment_id')::uuid), NULL::uuid
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

CREATE OR REPLACE FUNCTION auditlog_capture_notifications_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'body']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'body']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'notifications.notification', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, (r ->> 'customer_id')::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'body']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'body']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0003_entry_actor_customer"),
        ("customers", "0004_portal_link_and_origin"),
    ]

    operations = [migrations.RunSQL(INSTALL_SQL, UNINSTALL_SQL)]
