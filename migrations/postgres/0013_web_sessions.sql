-- Web console sessions (/ui): the cookie's token is kept only as its
-- SHA-256 (id_hash); expired rows are swept by the server.
CREATE TABLE web_sessions (
    id_hash         TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    subject         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    tier            TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    credential_hash TEXT NOT NULL,
    csrf            TEXT NOT NULL,
    created         TIMESTAMPTZ NOT NULL,
    expires         TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires);
