-- Instances, keys, users, email addresses, clients, sessions, JWT templates, mailbox.
-- Timestamps are Unix milliseconds; JSON documents are TEXT (same as PostgreSQL).

CREATE TABLE instances (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    frontend_host TEXT NOT NULL,
    publishable_key TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    secret_key_hash BLOB NOT NULL,
    allowed_origins TEXT NOT NULL,
    allow_localhost BOOLEAN NOT NULL,
    test_mode BOOLEAN NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX instances_name_key ON instances (name);
CREATE UNIQUE INDEX instances_frontend_host_key ON instances (frontend_host);
CREATE UNIQUE INDEX instances_secret_key_hash_key ON instances (secret_key_hash);

CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    private_key_der BLOB NOT NULL,
    public_n TEXT NOT NULL,
    public_e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX signing_keys_instance_idx ON signing_keys (instance_id, created_at);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    external_id TEXT,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    password_hash TEXT,
    public_metadata TEXT NOT NULL,
    private_metadata TEXT NOT NULL,
    unsafe_metadata TEXT NOT NULL,
    primary_email_address_id TEXT,
    image_url TEXT,
    banned BOOLEAN NOT NULL,
    locked BOOLEAN NOT NULL,
    locked_until BIGINT,
    failed_password_attempts BIGINT NOT NULL,
    last_sign_in_at BIGINT,
    last_active_at BIGINT,
    legal_accepted_at BIGINT,
    create_organization_enabled BOOLEAN NOT NULL,
    create_organizations_limit BIGINT,
    delete_self_enabled BOOLEAN NOT NULL,
    locale TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (instance_id, username);
CREATE UNIQUE INDEX users_external_id_key ON users (instance_id, external_id);
CREATE INDEX users_created_idx ON users (instance_id, created_at);

CREATE TABLE email_addresses (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    verification_strategy TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX email_addresses_address_key ON email_addresses (instance_id, email_address);
CREATE INDEX email_addresses_user_idx ON email_addresses (instance_id, user_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    token_hash BLOB,
    last_active_session_id TEXT,
    sign_in_id TEXT,
    sign_up_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX clients_token_idx ON clients (instance_id, token_hash);
CREATE INDEX clients_created_idx ON clients (instance_id, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    last_active_organization_id TEXT,
    last_active_at BIGINT NOT NULL,
    expire_at BIGINT NOT NULL,
    abandon_at BIGINT NOT NULL,
    azp TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (instance_id, user_id);
CREATE INDEX sessions_client_idx ON sessions (instance_id, client_id);

CREATE TABLE jwt_templates (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    claims TEXT NOT NULL,
    lifetime BIGINT NOT NULL,
    allowed_clock_skew BIGINT NOT NULL,
    custom_signing_key BOOLEAN NOT NULL,
    signing_algorithm TEXT NOT NULL,
    signing_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwt_templates_name_key ON jwt_templates (instance_id, name);

CREATE TABLE mail_messages (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_messages_instance_idx ON mail_messages (instance_id, created_at);
