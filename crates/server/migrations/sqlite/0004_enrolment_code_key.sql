-- Enrolment codes (about 40 bits) are stored as HMAC-SHA256 under a key of this server, no longer
-- as a plain SHA-256 that a search of every code reverses. The key is generated at first start.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Codes not used yet were stored as plain SHA-256: dropped (the metropolis issues new ones; the
-- demo's is issued again at start). Used codes stay as the record of which code enrolled which tablet.
DELETE FROM enrolment_codes WHERE used_at IS NULL;
