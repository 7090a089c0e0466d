-- Yearly EGalim totals per site, kept by the push transaction as purchase records are
-- created, corrected and deleted: one row per (site, calendar year, slot) where the slots are
-- the domain's YearTotals::to_slots (simple totals, the family × label table, the count).
-- A commune's yearly totals are then read from a few hundred rows, never from its purchases.
CREATE TABLE egalim_rollup (
    site_id TEXT NOT NULL REFERENCES sites (id),
    year INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    cents BIGINT NOT NULL,
    PRIMARY KEY (site_id, year, slot)
);

-- Sites whose purchases were stored before the rollup existed: rolled up (in one pass over
-- their purchase records) when the server next opens the database.
CREATE TABLE egalim_rollup_pending (
    site_id TEXT PRIMARY KEY REFERENCES sites (id)
);
INSERT INTO egalim_rollup_pending (site_id) SELECT DISTINCT site_id FROM records WHERE kind = 'purchase';
