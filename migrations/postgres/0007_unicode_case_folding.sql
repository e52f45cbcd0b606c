-- Unicode case folding: userName uniqueness, filters and sign-in compare
-- case-insensitive strings by Unicode simple case folding (schema.Fold, the
-- rule of Go's strings.EqualFold) instead of lower-casing. The normalised
-- columns (users.user_name_norm, user_emails.value_norm,
-- groups.display_name_norm) are computed in Go, so this migration changes
-- no schema: the backend recomputes every normalised column in Go inside
-- this migration's transaction (store.RefoldMigration). If two users of a
-- tenant would then share a userName, the migration fails naming them and
-- changes nothing; rename one of them with the previous release first.
SELECT 1;
