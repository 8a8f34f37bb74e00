environment-empty = nicht eingerichtet
environment-active = eingerichtet
environment-dissolved = aufgelöst
environment-title = Umgebung { $name }
environment-word = Umgebung
environment-notice-dissolved = Die Umgebung wird aufgelöst; der Namespace wird gelöscht.
environment-still-booked = In dieser Umgebung ist noch etwas gebucht; bitte erst alle Buchungen kündigen.
environment-nothing-to-dissolve = Diese Umgebung ist nicht eingerichtet; es gibt nichts aufzulösen.
environment-dissolve = Umgebung auflösen
environment-cluster = Cluster { $name }
environment-manifests = Manifest-Verzeichnis (GitOps)
environments-sub-before = Je Verfahren und Stufe eine
environments-sub-link = Umgebung
environments-sub-after = : ein Namespace im Cluster der Stufe, den Kontor auf dem Stand der Buchungen hält.
environments-caption = Umgebungen und ihr Bereitstellungsstand
environment-target = Ziel
environment-lifecycle = Zustand
environment-active-bookings = Aktive Buchungen
environment-none = keine
environment-failed-attempts = { $count ->
    [one] { $shown } Fehlversuch; Kontor versucht es weiter.
   *[other] { $shown } Fehlversuche; Kontor versucht es weiter.
}
environment-last-attempt = Letzter Abgleich
environment-back = Zurück zu den Umgebungen
dissolve-warning-title = Alles in diesem Namespace wird gelöscht
dissolve-deletes = Kontor löscht den Namespace
dissolve-in-cluster = im Cluster { $name }
dissolve-from-manifests = aus dem Manifest-Verzeichnis
dissolve-warning = – mit allem, was darin läuft, auch Daten in Volumes. Das lässt sich nicht rückgängig machen. Eine neue Buchung in dieser Stufe richtet die Umgebung leer wieder ein.
dissolve-objects = Diese Objekte von Kontor werden gelöscht
dissolve-kind = Art
dissolve-now = Umgebung { $name } verbindlich auflösen
dissolve-back = Nicht auflösen
