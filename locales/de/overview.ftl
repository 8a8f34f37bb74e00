overview-waiting = { $count ->
    [one] Ein Antrag wartet
   *[other] { $shown } Anträge warten
} auf Ihre Entscheidung.
overview-to-approvals = Zu den Freigaben
overview-kontingent-before = Was unter jedem Vertrag gebucht ist, gemessen an seinem
overview-kontingent-after = : den vereinbarten Obergrenzen und dem Monatsbudget.
overview-request-increase = Kontingent-Erhöhung beantragen
overview-cost-this-month = Kosten im laufenden Monat
overview-see-statement = Abrechnung ansehen
overview-no-contract = Für diese Behörde gibt es noch keinen Vertrag.
overview-applications-heading = Verfahren und Stufen
overview-no-applications = Noch keine Verfahren angelegt.
overview-matrix-caption = Buchungen je Verfahren und Stufe
overview-no-booking = keine Buchung
overview-new-booking = Neue Buchung im Katalog
overview-all-before = Alle Kunden und ihre
overview-all-caption = Verträge und Kontingent-Auslastung
overview-kontingent-link = Kontingent
