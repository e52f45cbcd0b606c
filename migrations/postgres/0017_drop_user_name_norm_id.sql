-- users_user_name_norm_id (tenant_id, user_name_norm, id), from 0002, was
-- meant for sorting by userName, but that sort is by
-- NULLIF(user_name_norm, '') COLLATE "C" (missing values last, byte
-- order as on SQLite), which no plain index on the column serves: the
-- plan sorts either way. Look-ups by userName use the unique index
-- users_user_name_norm. The index only cost writes: one more B-tree
-- insert for every user created or renamed (issue 12's import goals).
DROP INDEX IF EXISTS users_user_name_norm_id;
