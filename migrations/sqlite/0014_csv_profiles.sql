-- Tenants' own CSV import profiles (issue 13): every version is kept, since
-- an import records the profile version it ran with. doc is the profile's
-- JSON; created is integer microseconds.
CREATE TABLE csv_profiles (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
