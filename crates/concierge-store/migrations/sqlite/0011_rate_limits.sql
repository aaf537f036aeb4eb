-- Rate limits shared by every node on the database: one row per limited key (an instance and
-- a bucket such as a client IP's sign-in creations or the instance's invitations) holding the
-- key's theoretical arrival time (GCRA, in Unix ms). A request is admitted when the time
-- pushed one emission interval past max(tat, now) stays within the burst tolerance of now; a
-- row whose tat has passed says nothing more than no row, so such rows are purged.

CREATE TABLE rate_limits (
    instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    tat BIGINT NOT NULL,
    PRIMARY KEY (instance_id, bucket)
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (instance_id, tat);
