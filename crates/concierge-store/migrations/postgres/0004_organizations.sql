-- Organizations and memberships (one role per member). Built-in roles live in code.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    image_url TEXT,
    public_metadata TEXT NOT NULL,
    private_metadata TEXT NOT NULL,
    max_allowed_memberships BIGINT NOT NULL,
    admin_delete_enabled BOOLEAN NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (instance_id, slug);
CREATE INDEX organizations_created_idx ON organizations (instance_id, created_at);

CREATE TABLE organization_memberships (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    public_metadata TEXT NOT NULL,
    private_metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_memberships_member_key ON organization_memberships (organization_id, user_id);
CREATE INDEX organization_memberships_user_idx ON organization_memberships (instance_id, user_id);
