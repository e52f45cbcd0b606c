-- The number of users per tenant, kept by triggers, so that an unfiltered
-- list's totalResults is a sum of a few rows rather than a count of the
-- whole tenant on every page. A statement adds its count to one of 16 rows
-- of the tenant picked at random, so concurrent writers rarely wait on the
-- same row; the total is their sum.
CREATE TABLE user_counts (
    tenant_id text NOT NULL REFERENCES tenants (id),
    shard     integer NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, shard)
);

CREATE FUNCTION user_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts AS c (tenant_id, shard, n)
        SELECT tenant_id, floor(random() * 16)::integer, count(*) FROM inserted GROUP BY tenant_id
    ON CONFLICT (tenant_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION user_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts AS c (tenant_id, shard, n)
        SELECT tenant_id, floor(random() * 16)::integer, -count(*) FROM deleted GROUP BY tenant_id
    ON CONFLICT (tenant_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

-- The triggers come first: creating them locks users against writes until
-- this migration commits, so the backfill below counts exactly the rows
-- the triggers have not seen.
CREATE TRIGGER users_counted_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION user_counts_inserted();
CREATE TRIGGER users_counted_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION user_counts_deleted();

INSERT INTO user_counts (tenant_id, shard, n) SELECT tenant_id, 0, count(*) FROM users GROUP BY tenant_id;
