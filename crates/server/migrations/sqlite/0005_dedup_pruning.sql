-- The dedup table no longer grows for ever (docs/sync.md, « Dedup keys are pruned »): each push
-- moves its device's floor up to just below the batch's smallest seq and deletes that device's
-- keys at or below it.
ALTER TABLE devices ADD COLUMN dedup_floor BIGINT NOT NULL DEFAULT 0;
-- A revoked tablet never pushes again (it enrols as a new device): its keys serve nothing.
DELETE FROM applied_mutations WHERE device_id IN (SELECT id FROM devices WHERE revoked_at IS NOT NULL);
