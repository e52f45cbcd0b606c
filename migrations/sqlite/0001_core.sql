-- Core directory: tenants, users, emails, groups, memberships, credentials.
-- Times are integer microseconds since the Unix epoch (UTC); booleans are 0/1.
CREATE TABLE tenants (
    id      TEXT PRIMARY KEY,
    created INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tenants (id) VALUES ('default');

CREATE TABLE users (
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    id             TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    user_name_norm TEXT NOT NULL,
    external_id    TEXT,
    display_name   TEXT,
    active         INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL,
    last_modified  INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    doc            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_user_name_norm ON users (tenant_id, user_name_norm);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX users_last_modified ON users (tenant_id, last_modified);
CREATE INDEX users_created ON users (tenant_id, created, id);

CREATE TABLE user_emails (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    ord        INTEGER NOT NULL,
    value      TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    type       TEXT,
    is_primary INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, user_id, ord),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_emails_value_norm ON user_emails (tenant_id, value_norm);

CREATE TABLE groups (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    id                TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    display_name_norm TEXT NOT NULL,
    external_id       TEXT,
    created           INTEGER NOT NULL,
    last_modified     INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    doc               TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX groups_display_name_norm ON groups (tenant_id, display_name_norm);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
CREATE INDEX groups_created ON groups (tenant_id, created, id);

CREATE TABLE group_members (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL,
    display     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, group_id, member_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    tier         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX credentials_active_name ON credentials (tenant_id, name) WHERE revoked_at IS NULL;
