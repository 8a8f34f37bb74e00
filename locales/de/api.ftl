# The REST API's problem+json answers: `title` by the problem's type, and the
# details that are the same every time. Details that name what was wrong
# come from the domain and the app (domain.ftl, app.ftl).
problem-validation = Ungültige Eingabe
problem-not-found = Nicht gefunden
problem-unauthorized = Anmeldung erforderlich
problem-forbidden = Keine Berechtigung
problem-no-access = Kein Zugang
problem-rate-limited = Zu viele Anfragen
problem-database-unavailable = Vorübergehend nicht verfügbar
problem-kontingent-exceeded = Kontingent überschritten
problem-contract-not-valid = Vertrag nicht gültig
problem-conflict = Konflikt
problem-below-booked = Obergrenze unter dem Gebuchten
problem-precondition-failed = Inzwischen geändert
problem-checkup-refused = Checkup nicht bestanden
problem-four-eyes = Vier-Augen-Prinzip
problem-internal = Interner Fehler
problem-payload-too-large = Inhalt zu groß
problem-malformed-body = Fehlerhafter Inhalt
problem-unsupported-media-type = Falscher Inhaltstyp
problem-method-not-allowed = Methode nicht erlaubt
problem-provider-unavailable = Anmeldedienst nicht erreichbar
problem-detail-not-found = Dieses Objekt gibt es nicht oder es gehört nicht zu Ihrem Bereich.
problem-detail-forbidden = Ihre Rolle erlaubt diese Aktion nicht.
problem-detail-no-token = Bitte ein gültiges Bearer-Token senden.
problem-detail-rate-limited = Das Anfragelimit ist für diese Minute erreicht. Bitte nach { $seconds } Sekunden erneut versuchen.
problem-detail-database-unavailable = Die Datenbank ist gerade nicht erreichbar; es wurde nichts geändert. Bitte in einigen Sekunden erneut versuchen.
problem-detail-internal = Es ist ein interner Fehler aufgetreten; nichts wurde geändert. Fehlerkennung: { $id }
problem-detail-payload-too-large = Der Inhalt der Anfrage ist zu groß.
problem-detail-unreadable-body = Der Inhalt war nicht lesbar: { $why }
problem-detail-not-json = Der Inhalt ist kein gültiges JSON: { $why }
problem-detail-content-type = Bitte „Content-Type: application/json“ senden.
problem-detail-method-not-allowed = Diese Adresse unterstützt die Methode nicht.
