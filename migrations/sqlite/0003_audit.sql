-- Audit log: one row per change, written in the change's transaction.
CREATE TABLE audit_events (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_tier    TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    source        TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);
CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_id, at);
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, at);
