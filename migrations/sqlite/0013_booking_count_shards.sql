-- The number of all bookings, kept in 64 shards by the customer's id (see
-- the PostgreSQL migration of the same number for why). SQLite has one
-- writer, so the shards buy nothing here; the table exists so that both
-- databases answer the same statements.
CREATE TABLE booking_count_shards (
    shard    INTEGER PRIMARY KEY CHECK (shard >= 0 AND shard < 64),
    bookings INTEGER NOT NULL CHECK (bookings >= 0)
);

WITH RECURSIVE s(shard) AS (SELECT 0 UNION ALL SELECT shard + 1 FROM s WHERE shard < 63)
INSERT INTO booking_count_shards (shard, bookings)
SELECT s.shard, (SELECT COUNT(*) FROM bookings b WHERE b.customer_id % 64 = s.shard)
  FROM s;

DROP TRIGGER bookings_counted_insert;
DROP TRIGGER bookings_counted_delete;
DROP TRIGGER bookings_recounted;

CREATE TRIGGER bookings_counted_insert AFTER INSERT ON bookings
BEGIN
    INSERT INTO booking_counts (customer_id, bookings) VALUES (NEW.customer_id, 1)
    ON CONFLICT (customer_id) DO UPDATE SET bookings = bookings + 1;
    UPDATE booking_count_shards SET bookings = bookings + 1 WHERE shard = NEW.customer_id % 64;
END;

CREATE TRIGGER bookings_counted_delete AFTER DELETE ON bookings
BEGIN
    UPDATE booking_counts SET bookings = bookings - 1 WHERE customer_id = OLD.customer_id;
    UPDATE booking_count_shards SET bookings = bookings - 1 WHERE shard = OLD.customer_id % 64;
END;

CREATE TRIGGER bookings_recounted AFTER UPDATE OF customer_id ON bookings
WHEN OLD.customer_id IS NOT NEW.customer_id
BEGIN
    UPDATE booking_counts SET bookings = bookings - 1 WHERE customer_id = OLD.customer_id;
    INSERT INTO booking_counts (customer_id, bookings) VALUES (NEW.customer_id, 1)
    ON CONFLICT (customer_id) DO UPDATE SET bookings = bookings + 1;
    UPDATE booking_count_shards SET bookings = bookings - 1 WHERE shard = OLD.customer_id % 64;
    UPDATE booking_count_shards SET bookings = bookings + 1 WHERE shard = NEW.customer_id % 64;
END;
