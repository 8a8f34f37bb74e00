bookings-word = { $count ->
    [one] booking
   *[other] bookings
}
bookings-search-hint = Part of the name of customer, application or product
bookings-none = No bookings for this selection.
booking-title = Booking { $id }
booking-in = in
booking-product-and-size = Product and size
booking-cancelled-on = Cancelled on
booking-resize = Change size
booking-cancel = Cancel
booking-periods = History of sizes
booking-back-to-list = Back to the list
booking-running = ongoing
booking-notice-booked = The booking has been accepted.
booking-notice-resized = The size has been changed.
booking-notice-cancelled = The booking has been cancelled.
