-- Tasks belong to an organization; row-level security keeps every query inside the
-- organization that concierge_sdk::tenant puts in `app.current_org` (see the SDK's
-- `tenant` docs). Idempotent: the dashboard runs it at every start.

-- The role requests run as (`SET ROLE` after connecting): not a superuser and without
-- BYPASSRLS, so the policies apply to it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'axum_dashboard_app') THEN
        CREATE ROLE axum_dashboard_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS tasks (
    id         BIGSERIAL PRIMARY KEY,
    org_id     TEXT NOT NULL DEFAULT current_setting('app.current_org', true),
    title      TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT current_setting('app.current_user', true),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tasks_of_the_current_org ON tasks;
CREATE POLICY tasks_of_the_current_org ON tasks
    USING (org_id = current_setting('app.current_org', true))
    WITH CHECK (org_id = current_setting('app.current_org', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO axum_dashboard_app;
GRANT USAGE ON SEQUENCE tasks_id_seq TO axum_dashboard_app;
