-- Verified domains of organizations, the suggestions and membership requests they lead to,
-- and the link from an automatic invitation to the domain that made it.

CREATE TABLE organization_domains (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    enrollment_mode TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    verification_strategy TEXT,
    verified_at BIGINT,
    affiliation_email_address TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One organization per domain name in an instance.
CREATE UNIQUE INDEX organization_domains_name_key ON organization_domains (instance_id, name);
CREATE INDEX organization_domains_org_idx ON organization_domains (instance_id, organization_id, created_at);

CREATE TABLE organization_suggestions (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain_id TEXT REFERENCES organization_domains (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_suggestions_user_key ON organization_suggestions (organization_id, user_id);
CREATE INDEX organization_suggestions_user_idx ON organization_suggestions (instance_id, user_id, created_at);
CREATE INDEX organization_suggestions_domain_idx ON organization_suggestions (domain_id);

CREATE TABLE organization_membership_requests (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_membership_requests_user_key ON organization_membership_requests (organization_id, user_id);
CREATE INDEX organization_membership_requests_org_idx ON organization_membership_requests (instance_id, organization_id, created_at);

-- Set on invitations an automatic_invitation domain created; plain invitations leave it NULL.
ALTER TABLE organization_invitations ADD COLUMN domain_id TEXT REFERENCES organization_domains (id) ON DELETE SET NULL;
CREATE INDEX organization_invitations_domain_idx ON organization_invitations (domain_id);
