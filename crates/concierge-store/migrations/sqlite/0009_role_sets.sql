-- Role sets: named collections of role keys an organization's members may hold. Each instance
-- has exactly one initial set, which new organizations get. Existing instances get the Primary
-- Role Set (`role_set:default`) holding org:admin, org:member and every custom role that exists
-- now, with the default and creator roles of the instance settings; existing organizations use it.

CREATE TABLE role_sets (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    roles TEXT NOT NULL,
    default_role TEXT NOT NULL,
    creator_role TEXT NOT NULL,
    is_initial BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX role_sets_key_key ON role_sets (instance_id, key);
CREATE UNIQUE INDEX role_sets_initial_key ON role_sets (instance_id) WHERE is_initial;
CREATE INDEX role_sets_created_idx ON role_sets (instance_id, created_at);

ALTER TABLE organizations ADD COLUMN role_set_id TEXT REFERENCES role_sets (id);
CREATE INDEX organizations_role_set_idx ON organizations (instance_id, role_set_id);

-- Role keys are `org:` plus lowercase letters, digits and `_`, so they need no JSON escaping.
INSERT INTO role_sets (id, instance_id, key, name, description, roles, default_role, creator_role, is_initial, created_at, updated_at)
SELECT
    'rs_' || lower(hex(randomblob(14))),
    i.id,
    'role_set:default',
    'Primary Role Set',
    NULL,
    '["org:admin","org:member"'
        || COALESCE((SELECT group_concat(',"' || r.key || '"', '')
                     FROM (SELECT key FROM organization_roles WHERE instance_id = i.id ORDER BY created_at, id) r), '')
        || ']',
    CASE
        WHEN json_extract(i.settings, '$.organization_default_role') IN ('org:admin', 'org:member')
          OR EXISTS (SELECT 1 FROM organization_roles r
                     WHERE r.instance_id = i.id AND r.key = json_extract(i.settings, '$.organization_default_role'))
        THEN json_extract(i.settings, '$.organization_default_role')
        ELSE 'org:member'
    END,
    CASE
        WHEN json_extract(i.settings, '$.organization_creator_role') IN ('org:admin', 'org:member')
          OR EXISTS (SELECT 1 FROM organization_roles r
                     WHERE r.instance_id = i.id AND r.key = json_extract(i.settings, '$.organization_creator_role'))
        THEN json_extract(i.settings, '$.organization_creator_role')
        ELSE 'org:admin'
    END,
    1,
    i.created_at,
    i.created_at
FROM instances i;

UPDATE organizations
SET role_set_id = (SELECT rs.id FROM role_sets rs WHERE rs.instance_id = organizations.instance_id AND rs.is_initial);
