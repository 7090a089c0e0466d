-- The territory view's rollups (issue 13), kept by the push transaction beside the yearly
-- EGalim rollup (0010) as meal counts, weighings and purchases are created, corrected and
-- deleted: the overview and the commune page read these rows, never the records.

-- One row per site and service day (YYYY-MM-DD): the live meal counts (how many, covers
-- summed), the live weighings (how many, recovered surplus included) and their waste grams by
-- stage (the domain's `territory::DayRollup`). A row whose counters all went back to zero is a
-- day without entries.
CREATE TABLE day_rollup (
    site_id TEXT NOT NULL REFERENCES sites (id),
    service_date TEXT NOT NULL,
    meal_counts BIGINT NOT NULL,
    meals BIGINT NOT NULL,
    weighings BIGINT NOT NULL,
    grams_preparation BIGINT NOT NULL,
    grams_unserved BIGINT NOT NULL,
    grams_leftovers BIGINT NOT NULL,
    PRIMARY KEY (site_id, service_date)
) WITHOUT ROWID;
-- Clustered by site and day: the overview reads each site's days of a period as one range
-- (sites first, `CROSS JOIN` keeps that order in SQLite).

-- Live purchase lines per site and calendar month (the coverage of the purchase data).
CREATE TABLE purchase_month_rollup (
    site_id TEXT NOT NULL REFERENCES sites (id),
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    lines BIGINT NOT NULL,
    PRIMARY KEY (site_id, year, month)
) WITHOUT ROWID;

-- Sites whose records were stored before these rollups existed: rolled up (in one pass over
-- their records) when the server next opens the database.
CREATE TABLE territory_rollup_pending (
    site_id TEXT PRIMARY KEY REFERENCES sites (id)
);
INSERT INTO territory_rollup_pending (site_id) SELECT DISTINCT site_id FROM records;

-- Whether a commune takes part in the metropolis' programme (the overview's « engagée »).
ALTER TABLE communes ADD COLUMN engaged BOOLEAN NOT NULL DEFAULT TRUE;
