-- How many bookings each customer has, kept by the database itself (see the
-- PostgreSQL migration of the same number for why): the booking list's
-- exact total of an unfiltered list is a sum over one row per customer
-- instead of a count over every booking.
CREATE TABLE booking_counts (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    bookings    INTEGER NOT NULL CHECK (bookings >= 0)
);

INSERT INTO booking_counts (customer_id, bookings)
SELECT customer_id, COUNT(*) FROM bookings GROUP BY customer_id;

CREATE TRIGGER bookings_counted_insert AFTER INSERT ON bookings
BEGIN
    INSERT INTO booking_counts (customer_id, bookings) VALUES (NEW.customer_id, 1)
    ON CONFLICT (customer_id) DO UPDATE SET bookings = bookings + 1;
END;

CREATE TRIGGER bookings_counted_delete AFTER DELETE ON bookings
BEGIN
    UPDATE booking_counts SET bookings = bookings - 1 WHERE customer_id = OLD.customer_id;
END;

CREATE TRIGGER bookings_recounted AFTER UPDATE OF customer_id ON bookings
WHEN OLD.customer_id IS NOT NEW.customer_id
BEGIN
    UPDATE booking_counts SET bookings = bookings - 1 WHERE customer_id = OLD.customer_id;
    INSERT INTO booking_counts (customer_id, bookings) VALUES (NEW.customer_id, 1)
    ON CONFLICT (customer_id) DO UPDATE SET bookings = bookings + 1;
END;
