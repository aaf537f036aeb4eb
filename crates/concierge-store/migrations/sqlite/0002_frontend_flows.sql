-- Browser flows of the Frontend API: the client's signed-in-state time (__client_uat),
-- sign-ups and sign-ins in progress (one JSON document each), one-time-code verifications of
-- email addresses, and single-use handshake nonces.

ALTER TABLE clients ADD COLUMN uat BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sign_ups (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sign_ups_client_idx ON sign_ups (instance_id, client_id);

CREATE TABLE sign_ins (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sign_ins_client_idx ON sign_ins (instance_id, client_id);

CREATE TABLE verifications (
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    target_id TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (instance_id, target_id)
);

CREATE TABLE handshake_nonces (
    nonce_hash BLOB PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    directives TEXT NOT NULL,
    expire_at BIGINT NOT NULL
);
CREATE INDEX handshake_nonces_expire_idx ON handshake_nonces (expire_at);
