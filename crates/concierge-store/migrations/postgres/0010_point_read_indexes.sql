-- Indexes that answer the hot point reads in index order, without a temporary sort: an
-- instance's signing keys newest first (ties by id), which gives the current key of every
-- session token and the JWKS order, and a user's email addresses in creation order for every
-- user object.
CREATE INDEX signing_keys_newest_idx ON signing_keys (instance_id, created_at DESC, id DESC);
DROP INDEX signing_keys_instance_idx;
CREATE INDEX email_addresses_user_created_idx ON email_addresses (instance_id, user_id, created_at, id);
DROP INDEX email_addresses_user_idx;
