-- CSV job rows made cheap to record (issue 12's import goals). A commit
-- rewrites every row's status once or twice; with the row's plan (data,
-- about a kilobyte of JSON) in the same tuple, and action and status in
-- two indexes, each write copied the whole plan and added three index
-- entries. Now:
--   - the plan lives in csv_job_row_data, written with the row and never
--     updated by a commit;
--   - csv_job_rows keeps only what a commit changes and what queries
--     filter on, with room left in each page (fillfactor), so that a
--     status change is a HOT update: the new version goes on the same page
--     and no index changes (a row grows when its outcome names the user;
--     at 40% a page holds the next version of each of its rows);
--   - action and status are no longer indexed: every read of a job's rows
--     walks the primary key in seq order from a keyset position (JobRows)
--     or counts the job's rows (JobRowStats), and a job's narrow rows are
--     a few megabytes at 100,000 rows.
-- csv_job_row_data has no foreign key: checking one per row was a
-- measurable share of storing a preview, and its rows are deleted with
-- their job's rows (ExpireJobs); jobs themselves are never deleted.
CREATE TABLE csv_job_row_data (
    tenant_id TEXT NOT NULL,
    job_id    TEXT COLLATE "C" NOT NULL,
    seq       INTEGER NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, job_id, seq)
);
INSERT INTO csv_job_row_data (tenant_id, job_id, seq, data) SELECT tenant_id, job_id, seq, data FROM csv_job_rows;
ALTER TABLE csv_job_rows DROP COLUMN data;
DROP INDEX csv_job_rows_action;
DROP INDEX csv_job_rows_status;
ALTER TABLE csv_job_rows SET (fillfactor = 40);
