-- Invitations to sign up to an instance (wire §8.2, ids `inv_…`). An invitation's ticket is a
-- token signed with the instance's key and checked against this row's status when it is
-- used, so no ticket is stored. Several pending invitations to one address may exist
-- (`ignore_existing`), so the address is indexed, not unique.

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL,
    public_metadata TEXT NOT NULL,
    redirect_url TEXT,
    status TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX invitations_instance_idx ON invitations (instance_id, created_at);
CREATE INDEX invitations_email_idx ON invitations (instance_id, email_address);
