-- A commune's delegated-management records (issue 14): its catering contract, its checklist
-- progress and the metropolis' follow-up note, at most one of each kind per commune (the body
-- is the domain's `CommuneRecord` as JSON). Every applied change takes the next value of one
-- counter, locked by the push transaction, so changes become visible in commit order and a
-- pull by cursor never skips one.
CREATE TABLE commune_records (
    commune_insee TEXT NOT NULL REFERENCES communes (insee_code),
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    body TEXT NOT NULL,
    change_seq BIGINT NOT NULL,
    server_updated_at TEXT NOT NULL,
    -- The account whose push wrote this version.
    updated_by TEXT NOT NULL,
    PRIMARY KEY (commune_insee, kind)
);
CREATE INDEX commune_records_by_change ON commune_records (change_seq);

CREATE TABLE commune_records_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    change_seq BIGINT NOT NULL
);
INSERT INTO commune_records_counter (id, change_seq) VALUES (1, 0);
