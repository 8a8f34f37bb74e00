# The Revision's words below the page: what each action and kind of object
# is called, the labels of the recorded fields and their values, and the
# sentence of each entry. Ids built from the log's vocabulary
# (src/domain/audit): audit-action-<action>, audit-object-<type>(-acc),
# audit-field-<key>, with dots and underscores as hyphens.

## Actions (the "Aktion" column and the filter)
audit-action-booking-created = gebucht
audit-action-booking-resized = Größe geändert
audit-action-booking-cancelled = gekündigt
audit-action-booking-moved = auf anderen Vertrag übertragen
audit-action-booking-provisioned = bereitgestellt
audit-action-environment-dissolved = Umgebung aufgelöst
audit-action-release-delivered = geliefert
audit-action-release-refused = Lieferung abgelehnt
audit-action-promotion-requested = Freigabe beantragt
audit-action-promotion-approved = Freigabe erteilt
audit-action-promotion-rejected = Freigabe abgelehnt
audit-action-promotion-withdrawn = Antrag zurückgezogen
audit-action-kontingent-request-created = Kontingent beantragt
audit-action-kontingent-request-approved = Kontingent-Antrag genehmigt
audit-action-kontingent-request-rejected = Kontingent-Antrag abgelehnt
audit-action-kontingent-request-withdrawn = Kontingent-Antrag zurückgezogen
audit-action-kontingent-request-cosigned = Kontingent-Antrag mitgezeichnet
audit-action-deployment-succeeded = Bereitstellung erfolgreich
audit-action-deployment-failed = Bereitstellung fehlgeschlagen
audit-action-deployment-superseded = Bereitstellung abgelöst
audit-action-deployment-retried = Bereitstellung wiederholt
audit-action-customer-created = Kunde angelegt
audit-action-customer-updated = Kunde geändert
audit-action-contract-created = Vertrag angelegt
audit-action-contract-updated = Vertrag geändert
audit-action-contract-kontingent-changed = Kontingent geändert
audit-action-application-created = Verfahren angelegt
audit-action-application-renamed = Verfahren umbenannt
audit-action-application-moved = Verfahren umgezogen
audit-action-product-created = Produkt angelegt
audit-action-product-size-updated = Produktgröße geändert
audit-action-price-created = Preis angelegt
audit-action-price-updated = Preis geändert
audit-action-statement-closed = Abrechnung abgeschlossen
audit-action-token-created = API-Token angelegt
audit-action-token-revoked = API-Token widerrufen
audit-action-user-created = Benutzerkonto angelegt
audit-action-user-roles-changed = Rollen geändert
audit-action-notifications-preferences = Benachrichtigungen geändert
audit-action-webhook-created = Webhook angelegt
audit-action-webhook-deleted = Webhook entfernt
audit-action-audit-pruned = Revision gekürzt

## Kinds of object: the noun, and the noun as a sentence's object
audit-object-booking = Buchung
audit-object-booking-acc = die Buchung
audit-object-environment = Umgebung
audit-object-environment-acc = die Umgebung
audit-object-release = Lieferung
audit-object-release-acc = die Lieferung
audit-object-promotion = Freigabeantrag
audit-object-promotion-acc = den Freigabeantrag
audit-object-deployment = Bereitstellung
audit-object-deployment-acc = die Bereitstellung
audit-object-kontingent = Kontingent-Änderungsantrag
audit-object-kontingent-acc = den Kontingent-Änderungsantrag
audit-object-contract = Vertrag
audit-object-contract-acc = den Vertrag
audit-object-customer = Kunde
audit-object-customer-acc = den Kunden
audit-object-application = Verfahren
audit-object-application-acc = das Verfahren
audit-object-product = Produkt
audit-object-product-acc = das Produkt
audit-object-product-size = Produktgröße
audit-object-product-size-acc = die Produktgröße
audit-object-price = Preis
audit-object-price-acc = den Preis
audit-object-statement = Abrechnung
audit-object-statement-acc = die Abrechnung
audit-object-api-token = API-Token
audit-object-api-token-acc = das API-Token
audit-object-user = Benutzerkonto
audit-object-user-acc = das Benutzerkonto
audit-object-webhook = Webhook
audit-object-webhook-acc = den Webhook
audit-object-audit-log = Revision
audit-object-audit-log-acc = die Revision

## Recorded fields
audit-field-login = Anmeldename
audit-field-number = Vertragsnummer
audit-field-title = Titel
audit-field-slug = Kurzname
audit-field-name = Name
audit-field-description = Beschreibung
audit-field-customer-id = Kunde
audit-field-contract-id = Vertrag
audit-field-application-id = Verfahren
audit-field-stage = Stufe
audit-field-product = Produkt
audit-field-product-size-id = Produktgröße
audit-field-size = Größe
audit-field-state = Status
audit-field-lifecycle = Zustand
audit-field-release = Lieferung
audit-field-release-id = Lieferung
audit-field-version = Version
audit-field-image = Image
audit-field-checkup = Checkup
audit-field-from = von Stufe
audit-field-to = in Stufe
audit-field-deployment = Bereitstellung
audit-field-valid-from = gültig ab
audit-field-valid-until = gültig bis
audit-field-kostenstelle = Kostenstelle
audit-field-haushaltsstelle = Haushaltsstelle
audit-field-leitweg-id = Leitweg-ID
audit-field-billing-model = Abrechnungsmodell
audit-field-base-fee-cents = Grundgebühr
audit-field-max-millicpu = Obergrenze vCPU
audit-field-max-memory-mib = Obergrenze Arbeitsspeicher
audit-field-max-storage-gib = Obergrenze Speicher
audit-field-monthly-budget-cents = Monatsbudget
audit-field-vcpu-millicores = vCPU
audit-field-millicpu = vCPU
audit-field-memory-mib = Arbeitsspeicher
audit-field-storage-gib = Speicher
audit-field-pods = Pods
audit-field-rate = Preis je Stunde
audit-field-month = Monat
audit-field-lines = Positionen
audit-field-total-cents = Betrag
audit-field-expires-at = läuft ab
audit-field-revoked-at = widerrufen am
audit-field-subject = Kennung beim Identitätsanbieter
audit-field-roles = Rollen
audit-field-groups = Gruppen
audit-field-entries = Einträge
audit-field-checkpoint-seq = Prüfpunkt (Position)
audit-field-checkpoint-hash = Prüfpunkt (Hash)
audit-field-url = Adresse
audit-field-email-off = keine E-Mail bei
audit-field-reason = Begründung
audit-field-kontingent = Kontingent
audit-field-kontingent-request = Kontingent-Antrag
audit-field-justification = Begründung des Antrags
audit-field-cosigned-by = mitgezeichnet von (Nr.)
audit-field-below-use-confirmed = unter dem Gebuchten bestätigt
audit-field-message = Meldung

## Recorded values in words
audit-value-yes = ja
audit-value-no = nein
audit-value-number = Nr. { $id }
audit-value-never = nie
audit-value-no-customer = keiner (Anbieter)
audit-value-no-roles = keine
audit-value-all-emails-on = nichts (alle E-Mails an)
audit-value-release = Lieferung { $id }
audit-value-deployment = Bereitstellung { $id }
audit-value-deployment-running = läuft
audit-value-deployment-succeeded = erfolgreich
audit-value-deployment-failed = fehlgeschlagen
audit-value-deployment-superseded = abgelöst
audit-value-lifecycle-empty = leer
audit-value-lifecycle-active = aktiv
audit-value-lifecycle-dissolved = aufgelöst
audit-value-checkup-passed = bestanden
audit-value-checkup-refused = abgelehnt

## The sentence of an entry (without its full stop). Each gets $who (the
## person), $id (the object's number) and $obj (the object with its
## article and number, "den Vertrag 17").
audit-sentence-unknown-object = „{ $type }“ { $id }
audit-sentence-booking-created = { $who } hat die Buchung { $id } in Größe { $size } für { $stage } angelegt
audit-sentence-created = { $who } hat { $obj } angelegt
audit-sentence-updated = { $who } hat { $obj } geändert
audit-sentence-deleted = { $who } hat { $obj } gelöscht
audit-sentence-booking-resized = { $who } hat die Buchung { $id } von Größe { $old } auf { $new } geändert
audit-sentence-booking-resized-plain = { $who } hat die Größe der Buchung { $id } geändert
audit-sentence-booking-cancelled = { $who } hat die Buchung { $id } gekündigt
audit-sentence-booking-provisioned = { $who } hat die Buchung { $id } im Cluster bereitgestellt
audit-sentence-booking-moved = { $who } hat die Buchung { $id } auf den Vertrag { $contract } übertragen; sie läuft dort als Buchung { $carried } weiter
audit-sentence-booking-moved-plain = { $who } hat die Buchung { $id } auf einen anderen Vertrag übertragen
audit-sentence-application-renamed = { $who } hat das Verfahren { $id } in { $name } umbenannt
audit-sentence-application-renamed-plain = { $who } hat das Verfahren { $id } umbenannt
audit-sentence-application-moved = { $who } hat das Verfahren { $id } auf den Vertrag { $contract } umgezogen
audit-sentence-application-moved-plain = { $who } hat das Verfahren { $id } auf einen anderen Vertrag umgezogen
audit-sentence-environment-dissolved = { $who } hat die Umgebung { $id } aufgelöst
audit-sentence-release-delivered = { $who } hat Version { $version } geliefert (Lieferung { $id })
audit-sentence-release-delivered-plain = { $who } hat die Lieferung { $id } gebracht
audit-sentence-release-refused = { $who } hat eine Lieferung eingereicht; der Checkup hat sie abgelehnt (Lieferung { $id })
audit-sentence-promotion-requested = { $who } hat die Freigabe in { $to } beantragt (Freigabeantrag { $id })
audit-sentence-filed = { $who } hat { $obj } gestellt
audit-sentence-approved = { $who } hat { $obj } genehmigt
audit-sentence-rejected = { $who } hat { $obj } abgelehnt
audit-sentence-withdrawn = { $who } hat { $obj } zurückgezogen
audit-sentence-kontingent-changed = { $who } hat das Kontingent des Vertrags { $id } geändert (Kontingent-Antrag { $request })
audit-sentence-kontingent-changed-plain = { $who } hat das Kontingent des Vertrags { $id } geändert
audit-sentence-cosigned = { $who } hat { $obj } mitgezeichnet
audit-sentence-deployment-succeeded = { $who } meldet die Bereitstellung { $id } als erfolgreich
audit-sentence-deployment-failed = { $who } meldet die Bereitstellung { $id } als fehlgeschlagen
audit-sentence-deployment-superseded = { $who } hat die Bereitstellung { $id } durch eine neuere abgelöst
audit-sentence-deployment-retried = { $who } hat die Bereitstellung { $id } wiederholt
audit-sentence-statement-closed = { $who } hat die Abrechnung { $id } für { $month } abgeschlossen
audit-sentence-closed = { $who } hat { $obj } abgeschlossen
audit-sentence-revoked = { $who } hat { $obj } widerrufen
audit-sentence-user-created = { $who } hat sich zum ersten Mal angemeldet; das Benutzerkonto { $id } wurde angelegt
audit-sentence-user-roles-changed = Bei der Anmeldung von { $who } haben sich Kunde oder Rollen des Benutzerkontos { $id } geändert
audit-sentence-notifications-preferences = { $who } hat die E-Mail-Benachrichtigungen des Benutzerkontos { $id } eingestellt
audit-sentence-removed = { $who } hat { $obj } entfernt
# $entries is the number as recorded; $count selects the form. The German
# entry has always said "Einträge", also for one.
audit-sentence-audit-pruned = { $who } hat { $count ->
       *[other] { $entries } Einträge
    } der Revision nach Ablauf der Aufbewahrungsfrist gelöscht
audit-sentence-audit-pruned-plain = { $who } hat Einträge der Revision nach Ablauf der Aufbewahrungsfrist gelöscht
audit-sentence-unknown = { $who }: „{ $action }“ an { $noun } { $id }

## The Revision's filters (API and page)
audit-filter-date = Bitte ein Datum (JJJJ-MM-TT) oder einen Zeitpunkt nach RFC 3339 (2026-12-01T08:00:00Z) angeben.
audit-filter-end-before-start = Das Ende des Zeitraums liegt vor seinem Anfang.
audit-filter-positive = Bitte eine positive ganze Zahl angeben.
audit-filter-object-type = Keine Objektart (etwa „booking“ oder „contract“).
audit-filter-action = Keine Aktion (etwa „booking.resized“).
audit-filter-cursor = Unbekannter Cursor; bitte den Wert von „next“ der vorigen Antwort verwenden.

## The hash chain's verification: what is wrong, at the first place
audit-chain-altered = Eintrag { $id } wurde verändert: { $detail }
audit-chain-inserted = Eintrag { $id } wurde an Kontor vorbei eingefügt: { $detail }
audit-chain-deleted-entry = Eintrag { $id } wurde gelöscht
audit-chain-deleted-entries = Die Einträge { $first } bis { $last } wurden gelöscht
audit-chain-deleted-position = Der Eintrag an Position { $from } wurde gelöscht
audit-chain-deleted-positions = Die Einträge an den Positionen { $from } bis { $to } wurden gelöscht
audit-chain-between = zwischen Eintrag { $previous } und Eintrag { $next }
audit-chain-before = vor Eintrag { $next }
audit-chain-after = nach Eintrag { $previous }, am Ende der Kette
# $which is one of the four above, with the neighbours in parentheses.
audit-chain-deleted = { $which }; Position { $from }–{ $to } der Kette fehlt
audit-chain-hash-missing = sein Hash fehlt
audit-chain-content-changed = sein Inhalt passt nicht mehr zu seinem Hash
audit-chain-next-points-elsewhere = der nachfolgende Eintrag { $next } verweist auf einen anderen Hash (geändert und neu gehasht)
audit-chain-not-at-checkpoint = er schließt nicht an den Prüfpunkt der Aufbewahrung an
audit-chain-beyond-head = seine Position { $at } liegt hinter dem Kopf der Kette ({ $head })
audit-chain-recomputed = sein Hash ist nicht mehr der, den die Prüfung vom { $at } gesehen hat (die Kette wurde ab hier neu berechnet)
audit-chain-not-in-chain = er steht nicht in der Kette
audit-chain-head-differs = der Kopf der Kette verzeichnet einen anderen Hash
audit-chain-noted-genesis = Position 0 ist der Anfang der Kette; ihr Hash sind 64 Nullen
audit-chain-noted-recomputed = Eintrag { $id } an Position { $seq } trägt nicht mehr den notierten Hash: die Kette wurde ab hier neu berechnet
audit-chain-noted-checkpoint = Der Prüfpunkt der Aufbewahrung verzeichnet an Position { $seq } einen anderen Hash als notiert
audit-chain-noted-beyond-head = Die Kette endet bei Position { $head }; die Einträge bis zur notierten Position { $seq } fehlen
audit-chain-noted-missing = Der Eintrag an Position { $seq } fehlt
audit-chain-prune-stopped = Die Aufbewahrungsfrist löscht nicht weiter, weil die Kette beschädigt ist: { $problem }. Bitte „kontor audit verify“ ausführen.
