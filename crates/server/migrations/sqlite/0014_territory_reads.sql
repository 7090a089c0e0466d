-- The territory's reads take one year of every site (the overview's EGalim shares, its months
-- with purchase lines): indexes led by the year, holding the values read, so that a year is
-- one range of one index (no lookup into the table per row).
CREATE INDEX egalim_rollup_by_year ON egalim_rollup (year, site_id, slot, cents);
CREATE INDEX purchase_month_rollup_by_year ON purchase_month_rollup (year, site_id, month, lines);
