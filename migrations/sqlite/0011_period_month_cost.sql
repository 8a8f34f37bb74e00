-- The cost of a closed period within the month in which it ended (the sum of
-- its rounded statement lines there), written in the transaction that closes
-- it. The live month view (Übersicht, budget watch) adds these up instead of
-- rating every period of the month again on each view; only the open periods
-- are rated. NULL while the period runs, and for periods closed before this
-- column existed (those are rated as before until the start-up fills them).
ALTER TABLE booking_periods ADD COLUMN month_cents BIGINT;
