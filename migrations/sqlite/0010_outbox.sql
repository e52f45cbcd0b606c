-- E-mail outbox (issue 13): messages written in the same transaction as the
-- user creation that causes them, delivered by the SMTP sender. Claims go
-- through the single writer with a lease (lease_owner, lease_until), as
-- CSV jobs are claimed. Times are integer microseconds.
CREATE TABLE outbox (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    sender       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    sent_at      INTEGER,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER,
    PRIMARY KEY (tenant_id, id)
);
-- ListOutbox: a tenant's messages newest first.
CREATE INDEX outbox_created ON outbox (tenant_id, created, id);
-- ClaimOutbox: only the pending messages, in due order.
CREATE INDEX outbox_claim ON outbox (next_attempt, created) WHERE state = 'pending';
