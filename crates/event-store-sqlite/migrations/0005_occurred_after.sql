-- An event whose instant the source knows only to a range (a state seen in a snapshot, a
-- time the platform did not record) keeps the range's start: it happened after
-- `occurred_after` and at or before `occurred_at`. NULL for an exact event, which is every
-- event written before this column existed; those rows and their hashes are unchanged, because
-- the canonical bytes hold `occurred_after` only when it is present.
ALTER TABLE events ADD COLUMN occurred_after TEXT;
