-- The territory's reads take one year of every site (the overview's EGalim shares, its months
-- with purchase lines): indexes led by the year, holding the values read, so that a year is
-- one index range (an index-only scan where the table is vacuumed) instead of a scan of every
-- year.
CREATE INDEX egalim_rollup_by_year ON egalim_rollup (year, site_id, slot) INCLUDE (cents);
CREATE INDEX purchase_month_rollup_by_year ON purchase_month_rollup (year, site_id, month) INCLUDE (lines);

-- Service dates are ISO text (YYYY-MM-DD): they sort byte by byte. Under the database's
-- locale every comparison went through the C library's collation (the territory's sums compare
-- each day row's date a dozen times): the "C" collation compares bytes, and its indexes too.
ALTER TABLE day_rollup ALTER COLUMN service_date TYPE TEXT COLLATE "C";

-- Every read of the day rollup goes site by site (its primary key's ranges, as on SQLite): the
-- index by date was one more entry to write for each day a push touches, and read by nothing.
DROP INDEX day_rollup_by_date;
