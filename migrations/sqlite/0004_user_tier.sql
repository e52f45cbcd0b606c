-- The support tier of each user, in a column so that authorisation can
-- judge group membership changes without reading documents.
ALTER TABLE users ADD COLUMN tier TEXT NOT NULL DEFAULT '';
UPDATE users SET tier = coalesce(json_extract(doc, '$."urn:scimbridge:params:scim:schemas:extension:support:2.0:User".tier'), '');
