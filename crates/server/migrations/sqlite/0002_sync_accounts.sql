-- Sync, accounts and devices (issue 5).
-- Sites get a UUID (tablets stamp it on meal counts and weighings) and a per-site change counter:
-- every applied change takes the next value, and the pull cursor is that value, never a timestamp.
ALTER TABLE sites ADD COLUMN id TEXT;
ALTER TABLE sites ADD COLUMN sectors TEXT NOT NULL DEFAULT '["education_primaire"]';
ALTER TABLE sites ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
-- The demo canteen keeps a fixed id; any other existing site gets a random (v4) UUID.
UPDATE sites SET id = CASE WHEN siret = '21760351500008' THEN '01900000-7635-7000-8000-021760351500' ELSE
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
    || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
    END;
CREATE UNIQUE INDEX sites_id ON sites (id);

CREATE TABLE admins (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Only hashes of tokens and codes are stored (SHA-256 of high-entropy secrets).
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    label TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id TEXT
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT
);

-- Current state of every synced record; `body` is the full record as JSON (RecordPayload).
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    kind TEXT NOT NULL,
    revision BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    change_seq BIGINT NOT NULL,
    server_updated_at TEXT NOT NULL,
    device_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX records_site_change ON records (site_id, change_seq);

-- Dedup keys: (device, device sequence) of every applied mutation.
CREATE TABLE applied_mutations (
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
