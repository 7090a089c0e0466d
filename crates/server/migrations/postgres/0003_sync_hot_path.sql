-- The push and pull hot path (issue 5, benchmark against pouchdb-server).
--
-- 1. records.site_id no longer references sites (id). PostgreSQL checks a foreign key with one
--    trigger query per inserted row: 1000 queries in a batch of 1000, more than half the time of
--    the insert. The only writer of `records` is the push transaction, which first locks its
--    site's row (`UPDATE sites ... RETURNING change_seq`, refused when the site is missing) and
--    writes that site's id on every row; sites are never deleted. (SQLite keeps the reference:
--    its check is an index lookup, no query.)
ALTER TABLE records DROP CONSTRAINT records_site_id_fkey;

-- 2. Ids compare bytewise. They are UUID text with no linguistic order, and under the
--    database's default collation (C.UTF-8, fr_FR.UTF-8...) every index comparison goes through
--    strcoll. Only these columns are indexed on the hot path; the indexes are rebuilt.
ALTER TABLE records ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN site_id TYPE TEXT COLLATE "C";
ALTER TABLE applied_mutations ALTER COLUMN device_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C";
