-- Profile images uploaded by users, served by the Frontend API at /v1/images/{id}.

CREATE TABLE images (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX images_instance_idx ON images (instance_id);
