-- CSV jobs (DESIGN §8): the job, its upload (kept until the job expires)
-- and one row per data row of the file with what happened to it.
-- principal, detail and data are csvbridge's bytes, kept as given (BYTEA,
-- not JSON); counts is a JSON object of integers. lease_owner is '' and
-- lease_until NULL when no worker holds the job. Rows and the upload go
-- with their job (ON DELETE CASCADE); ExpireJobs deletes them earlier.
CREATE TABLE csv_jobs (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    id              TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    profile         TEXT NOT NULL,
    profile_version INTEGER NOT NULL,
    state           TEXT NOT NULL,
    actor           TEXT NOT NULL,
    principal       BYTEA NOT NULL,
    file_name       TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    file_size       BIGINT NOT NULL,
    total           INTEGER NOT NULL,
    done            INTEGER NOT NULL,
    counts          JSONB NOT NULL,
    summary         TEXT NOT NULL,
    detail          BYTEA NOT NULL,
    created         TIMESTAMPTZ NOT NULL,
    updated         TIMESTAMPTZ NOT NULL,
    expires         TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TIMESTAMPTZ,
    version         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- ListJobs: a tenant's jobs newest first (scanned backwards).
CREATE INDEX csv_jobs_created ON csv_jobs (tenant_id, created, id);
-- ClaimJob: the claimable jobs, oldest first. Partial on the claimable
-- states, so the index holds only live work and is read in claim order;
-- the lease test is a filter on those few entries.
CREATE INDEX csv_jobs_claim ON csv_jobs (created, tenant_id, id, lease_until)
    WHERE state IN ('validating', 'committing');
-- ClaimJob's one-commit-per-tenant test: a tenant's committing jobs.
CREATE INDEX csv_jobs_committing ON csv_jobs (tenant_id, lease_until) WHERE state = 'committing';
-- ExpireJobs: jobs not yet expired, by expiry.
CREATE INDEX csv_jobs_expires ON csv_jobs (expires) WHERE state <> 'expired';

CREATE TABLE csv_job_uploads (
    tenant_id TEXT NOT NULL,
    job_id    TEXT COLLATE "C" NOT NULL,
    part      INTEGER NOT NULL,
    body      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, job_id, part),
    FOREIGN KEY (tenant_id, job_id) REFERENCES csv_jobs (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE csv_job_rows (
    tenant_id   TEXT NOT NULL,
    job_id      TEXT COLLATE "C" NOT NULL,
    seq         INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    error_code  TEXT NOT NULL,
    error       TEXT NOT NULL,
    data        BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, job_id, seq),
    FOREIGN KEY (tenant_id, job_id) REFERENCES csv_jobs (tenant_id, id) ON DELETE CASCADE
);
-- JobRows filtered by action (and status), in seq order; JobRowStats reads
-- it alone (index-only).
CREATE INDEX csv_job_rows_action ON csv_job_rows (tenant_id, job_id, action, status, seq);
-- JobRows filtered by status (failed rows for the report, pending rows
-- when a commit resumes), in seq order.
CREATE INDEX csv_job_rows_status ON csv_job_rows (tenant_id, job_id, status, seq);
