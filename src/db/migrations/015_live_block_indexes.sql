-- Partial indexes on the blocks that still take time, for the reads on every slot listing and hold.
-- booking_blocks_provider (provider_id, blocked_start) answers "blocks starting before the range's end",
-- which is every block of the provider since its first booking: the work grew with its history
-- (bench table 10b). These start from the range's start instead and hold only live rows; a block's
-- status is its booking's (the trigger in 010_teams.sql), so the queries name it to use them.

-- Live blocks (what a slot listing subtracts): cancelled, declined and expired ones are left out.
CREATE INDEX booking_blocks_live_provider_end ON booking_blocks (provider_id, blocked_end)
  WHERE status IN ('held', 'pending', 'confirmed');

-- Blocks that can lapse by time alone (a hold, a request awaiting approval): what a hold frees first
-- and what bounds how long a cached slot answer is good for. Small: the sweeper moves lapsed ones out.
CREATE INDEX booking_blocks_lapsing_provider_end ON booking_blocks (provider_id, blocked_end)
  WHERE status IN ('held', 'pending');
