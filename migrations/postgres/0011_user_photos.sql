-- Profile pictures (issue 13, seed 002): one row per picture scimbridge
-- serves for a user's photos attribute. body holds the image as uploaded
-- (JPEG or PNG, checked by content, under 5 MB). A picture goes with its
-- user (ON DELETE CASCADE).
CREATE TABLE user_photos (
    tenant_id    TEXT NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    body         BYTEA NOT NULL,
    created      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- DeleteUserPhotos, and the cascade when a user is deleted.
CREATE INDEX user_photos_user ON user_photos (tenant_id, user_id);
