bookings-word = { $count ->
    [one] Buchung
   *[other] Buchungen
}
bookings-search-hint = Teil des Namens von Kunde, Verfahren oder Produkt
bookings-none = Keine Buchungen für diese Auswahl.
booking-title = Buchung { $id }
booking-in = in
booking-product-and-size = Produkt und Größe
booking-cancelled-on = Gekündigt am
booking-resize = Größe ändern
booking-cancel = Kündigen
booking-periods = Verlauf der Größen
booking-back-to-list = Zurück zur Liste
booking-running = laufend
booking-notice-booked = Die Buchung ist angenommen.
booking-notice-resized = Die Größe wurde geändert.
booking-notice-cancelled = Die Buchung ist gekündigt.
