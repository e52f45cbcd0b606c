-- Two foreign keys checked once per row inserted go (issue 12's import
-- goals); each cost a look-up of the parent's primary key for every row.
--
-- user_emails -> users: measured, half the cost of inserting new users'
-- emails (26 ms per 1,000 rows without it, 55 ms with it), about 3 s of a
-- 100,000-row import. Every email row is written by the store in the
-- transaction that writes its user (CreateUser, CreateUsers, the update
-- paths), and DeleteUser now deletes a user's emails itself, as it
-- already did the user's memberships (group_members never had a foreign
-- key to users).
--
-- csv_job_rows -> csv_jobs: every write of a job's rows first locks the
-- job (InsertJobRows, RecordChunk: an unknown job is ErrNotFound before
-- any row is written), jobs are never deleted, and expired jobs' rows are
-- deleted with the job's upload and row data (ExpireJobs), as
-- csv_job_row_data's already were (migration 0015).
ALTER TABLE user_emails DROP CONSTRAINT user_emails_tenant_id_user_id_fkey;
ALTER TABLE csv_job_rows DROP CONSTRAINT csv_job_rows_tenant_id_job_id_fkey;
