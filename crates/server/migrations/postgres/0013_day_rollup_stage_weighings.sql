-- The live weighings of each day by stage (the domain's `DayRollup::weighings_by_stage`,
-- recovered surplus included): a stage never weighed has no g per meal, where the day's
-- grams alone read as 0 g. `weighings` stays their sum (the reads' filter on entries).
ALTER TABLE day_rollup ADD COLUMN weighings_preparation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE day_rollup ADD COLUMN weighings_unserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE day_rollup ADD COLUMN weighings_leftovers BIGINT NOT NULL DEFAULT 0;

-- The existing rows cannot tell the stages apart: every site with records is rolled up
-- again from its records when the server next opens the database (as for migration 0011).
INSERT INTO territory_rollup_pending (site_id)
SELECT DISTINCT site_id FROM records WHERE site_id NOT IN (SELECT site_id FROM territory_rollup_pending);
