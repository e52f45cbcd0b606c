-- Indexes for sorted paging: ORDER BY last_modified/created, id LIMIT n
-- reads the first rows of an index instead of sorting the tenant.
CREATE INDEX users_last_modified_id ON users (tenant_id, last_modified, id);
DROP INDEX users_last_modified;
CREATE INDEX users_user_name_norm_id ON users (tenant_id, user_name_norm, id);
CREATE INDEX groups_last_modified_id ON groups (tenant_id, last_modified, id);
