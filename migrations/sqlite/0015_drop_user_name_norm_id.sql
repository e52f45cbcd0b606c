-- users_user_name_norm_id (tenant_id, user_name_norm, id), from 0002, was
-- meant for sorting by userName, but that sort is by
-- NULLIF(user_name_norm, ''), which no plain index on the column serves:
-- the plan sorts either way. Look-ups by userName use the unique index
-- users_user_name_norm. The index only cost writes (issue 12).
DROP INDEX IF EXISTS users_user_name_norm_id;
