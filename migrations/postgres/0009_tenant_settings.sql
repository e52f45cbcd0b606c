-- Tenant settings (issue 13): one JSON document per tenant (sources, role
-- catalogue, offices, custom organisation fields, notifications), its
-- meaning owned by the directory. version counts writes (If-Match).
CREATE TABLE tenant_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    version   BIGINT NOT NULL,
    updated   TIMESTAMPTZ NOT NULL,
    doc       JSON NOT NULL
);
