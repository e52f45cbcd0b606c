-- Rotation: a client may hold two active secrets of one name at a time
-- (the store enforces the limit), so the unique index goes.
DROP INDEX credentials_active_name;
CREATE INDEX credentials_tenant_name ON credentials (tenant_id, name);
