-- The support tier of each user, in a column so that authorisation can
-- judge group membership changes without reading documents.
ALTER TABLE users ADD COLUMN tier TEXT NOT NULL DEFAULT '';
UPDATE users SET tier = coalesce(doc::jsonb -> 'urn:scimbridge:params:scim:schemas:extension:support:2.0:User' ->> 'tier', '');
