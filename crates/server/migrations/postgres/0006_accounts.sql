-- People: the metropolis' administrators become `metropolis` accounts (every commune), beside
-- `commune_manager` accounts scoped to one or several communes (`account_communes`).
ALTER TABLE admins RENAME TO accounts;
ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'metropolis';
-- A disabled account cannot sign in, and its sessions are deleted when it is disabled.
ALTER TABLE accounts ADD COLUMN disabled_at TEXT;

CREATE TABLE account_communes (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    commune_insee TEXT NOT NULL REFERENCES communes (insee_code),
    PRIMARY KEY (account_id, commune_insee)
);

-- Sessions of every account. `expires_at` is the absolute cap; `idle_expires_at` slides
-- forward when the session is used (a manager who syncs once a week stays signed in).
ALTER TABLE admin_sessions RENAME TO sessions;
ALTER TABLE sessions RENAME COLUMN admin_id TO account_id;
ALTER TABLE sessions ADD COLUMN idle_expires_at TEXT;
UPDATE sessions SET idle_expires_at = expires_at;
ALTER TABLE sessions ALTER COLUMN idle_expires_at SET NOT NULL;
CREATE INDEX sessions_account ON sessions (account_id);

-- One-time invitations of commune managers. Only a keyed hash (HMAC-SHA256 under the key of
-- `server_keys`, as enrolment codes) of the code is stored. `communes`: JSON array of INSEE codes.
CREATE TABLE invitations (
    code_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    communes TEXT NOT NULL,
    invited_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    account_id TEXT
);
CREATE INDEX invitations_email ON invitations (email);

-- A browser a signed-in person syncs from: the dedup key of its pushes is (client id, seq),
-- in `applied_mutations` beside the tablets' (ids are UUIDs: they never collide).
CREATE TABLE account_clients (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    label TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    dedup_floor BIGINT NOT NULL DEFAULT 0
);
