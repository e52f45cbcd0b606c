-- The number of users per tenant, kept by triggers, so that an unfiltered
-- list's totalResults is one row rather than a count of the whole tenant on
-- every page (SQLite has one writer, so one row per tenant suffices).
CREATE TABLE user_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    n         INTEGER NOT NULL
);

CREATE TRIGGER users_counted_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (tenant_id, n) VALUES (NEW.tenant_id, 1)
    ON CONFLICT (tenant_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER users_counted_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
END;

INSERT INTO user_counts (tenant_id, n) SELECT tenant_id, count(*) FROM users GROUP BY tenant_id;
