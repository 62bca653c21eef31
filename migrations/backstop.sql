-- The backstop (`switchboard migrate --backstop`, optional; `check` reports it): changes made
-- outside the console (psql, the platform's own code) to the columns admins care about are
-- written to the audit log too, as `db.<table>.update` with the changed columns old and new and,
-- as the user agent, the database role and `application_name` that made them. They are not part
-- of the hash chain (verify lists them apart). Changes in the console's own transactions (which
-- set `switchboard.console` locally) are not recorded twice, nor those of the roles listed in the
-- setting `backstop_ignore_roles` (e.g. the platform's billing role deducting credits for calls;
-- login roles, matched against `session_user`).
-- This records what honest tools do; it is not a barrier: a session that sets
-- `switchboard.console` itself, or a superuser, can go around it.
-- Re-running it replaces the function and the triggers: it may be applied any number of times.

INSERT INTO switchboard.settings (key, value) VALUES ('backstop_ignore_roles', '[]')
ON CONFLICT (key) DO NOTHING;

-- It runs as its owner (SECURITY DEFINER, with a fixed search_path): the platform's roles that
-- change these tables need no rights on the audit log or on the console's schema, and a change
-- is never refused because of the backstop. The role it records is the session's login role
-- (`session_user`), which SET ROLE does not change.
CREATE OR REPLACE FUNCTION switchboard.backstop() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    resource text := TG_ARGV[0];
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := to_jsonb(NEW);
    old_values jsonb := '{}';
    new_values jsonb := '{}';
    col text;
    entry uuid;
BEGIN
    IF current_setting('switchboard.console', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM switchboard.settings s,
                      jsonb_array_elements_text(s.value) AS r(name)
               WHERE s.key = 'backstop_ignore_roles' AND r.name = session_user::text) THEN
        RETURN NULL;
    END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        col := TG_ARGV[i];
        IF old_row -> col IS DISTINCT FROM new_row -> col THEN
            old_values := old_values || jsonb_build_object(col, old_row -> col);
            new_values := new_values || jsonb_build_object(col, new_row -> col);
        END IF;
    END LOOP;
    IF new_values = '{}' THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.audit_logs (action, resource_type, resource_id, old_values, new_values,
                                   user_agent)
    VALUES ('db.' || TG_TABLE_NAME || '.update', resource, (new_row ->> 'id')::uuid,
            old_values, new_values,
            format('database: role %s, application %s', session_user,
                   coalesce(nullif(current_setting('application_name', true), ''), '(none)')))
    RETURNING id INTO entry;
    PERFORM pg_notify('switchboard_audit', entry::text);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS switchboard_backstop ON public.users;
CREATE TRIGGER switchboard_backstop AFTER UPDATE ON public.users FOR EACH ROW
    EXECUTE FUNCTION switchboard.backstop('user', 'role', 'tenant_id', 'is_active',
                                          'email_verified', 'credits');
DROP TRIGGER IF EXISTS switchboard_backstop ON public.phone_numbers;
CREATE TRIGGER switchboard_backstop AFTER UPDATE ON public.phone_numbers FOR EACH ROW
    EXECUTE FUNCTION switchboard.backstop('phone_number', 'assigned_to_user_id', 'is_active');
DROP TRIGGER IF EXISTS switchboard_backstop ON public.tenants;
CREATE TRIGGER switchboard_backstop AFTER UPDATE ON public.tenants FOR EACH ROW
    EXECUTE FUNCTION switchboard.backstop('tenant', 'name', 'plan', 'is_active', 'metadata');
DROP TRIGGER IF EXISTS switchboard_backstop ON public.agents;
CREATE TRIGGER switchboard_backstop AFTER UPDATE ON public.agents FOR EACH ROW
    EXECUTE FUNCTION switchboard.backstop('agent', 'is_active', 'name');
