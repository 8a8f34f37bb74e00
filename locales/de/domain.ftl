# Messages of the domain, the app's errors and the REST API's details that
# name what was wrong: refusals, validation messages, conflicts.

## Typed text (domain::text, domain::slug)
invalid-text-empty = Bitte ausfüllen.
invalid-text-too-long = Höchstens { $max } Zeichen.
invalid-text-control = Steuerzeichen (etwa Null-Bytes) sind hier nicht erlaubt.
invalid-slug-empty = Bitte ein Kürzel angeben.
invalid-slug = Nur Kleinbuchstaben a–z, Ziffern und Bindestriche; Anfang mit Buchstabe, kein Bindestrich am Ende.

## Amounts (domain::money)
invalid-amount-empty = Bitte einen Betrag angeben.
invalid-amount = „{ $input }“ ist kein gültiger Betrag (Beispiel: 1234,50).
invalid-amount-decimals = Höchstens { $places } Nachkommastellen.
invalid-amount-negative = Der Betrag darf nicht negativ sein.
invalid-amount-too-large = Der Betrag ist zu groß.

invalid-idempotency-key = Der Idempotency-Key muss 1 bis 255 sichtbare ASCII-Zeichen haben.

## Requests that are closed already (domain::approval)
refusal-approval-approved = Dieser Antrag ist bereits genehmigt.
refusal-approval-rejected = Dieser Antrag ist bereits abgelehnt.
refusal-approval-withdrawn = Dieser Antrag wurde zurückgezogen.

## The Checkup's refusals of a delivery (domain::release)
refusal-malformed-image = Die Image-Referenz ist ungültig ({ $why }); erwartet: registry/pfad@sha256:<64 Hex-Zeichen>.
refusal-not-pinned = Das Image ist nicht per Digest festgelegt (…@sha256:<64 Hex-Zeichen>); ein Tag kann sich später ändern.
refusal-foreign-registry = Die Registry { $registry } steht nicht auf der Liste der zugelassenen Registries.
refusal-duplicate-version = Version { $version } wurde für dieses Verfahren bereits geliefert.
refusal-malformed-checksum = Die Prüfsumme { $name } ist ungültig; erwartet: sha256:<64 Hex-Zeichen>.
# What is wrong with an image reference, inside refusal-malformed-image.
image-why-empty-or-long = leer oder zu lang
image-why-blank = Leerzeichen
image-why-no-registry = keine Registry
image-why-path = Pfad
image-why-digest = Digest
invalid-version-empty = Bitte eine Version angeben.
invalid-version = Nur Buchstaben, Ziffern und . - _ +; Anfang mit Buchstabe oder Ziffer.

## The Kontingent (domain::kontingent; its refusal and the limits' names
## are `kontingent-refused` and `limit-…`, shared with the pages)
below-use-item = { $limit }: neu { $ceiling }, gebucht { $booked }

## What an id enum did not understand (domain::ids)
unknown-value = { $what } „{ $value }“ (erlaubt: { $allowed })
unknown-approval-kind = unbekannte Antragsart
unknown-approval-state = unbekannter Antragsstatus
unknown-billing-model = unbekanntes Abrechnungsmodell
unknown-booking-state = unbekannter Buchungsstatus
unknown-channel = unbekannter Kanal
unknown-checkup = unbekanntes Checkup-Ergebnis
unknown-delivery-state = unbekannter Zustellstatus
unknown-deployment-state = unbekannter Bereitstellungsstatus
unknown-event-kind = unbekannte Ereignisart
unknown-lifecycle = unbekannter Lebenszyklus
unknown-line-kind = unbekannte Positionsart
unknown-role = unbekannte Rolle
unknown-size = unbekannte Größe
unknown-stage = unbekannte Stufe
unknown-via = unbekannter Zugangsweg

## A contract's fields (domain::contract)
invalid-contract-number = Nur Buchstaben, Ziffern, „-“ und „/“, z. B. DLV-2026-0042.
invalid-leitweg-id = Keine gültige Leitweg-ID (Beispiel: 04011000-1234512345-06).
invalid-contract-ends-before-start = Das Vertragsende liegt vor dem Beginn.
invalid-base-fee-only-mixed = Eine Grundgebühr gibt es nur im Mischmodell.

## The app's refusals (app::error)
stale-contract = Der Vertrag wurde inzwischen geändert. Es wurde nichts gespeichert; bitte die aktuelle Fassung laden und die Änderung erneut vornehmen.
refusal-below-use = Die neuen Obergrenzen lägen unter dem, was gebucht ist ({ $limits }). Bis der Verbrauch sinkt, sind dann keine neuen Buchungen und keine Vergrößerungen möglich; bitte ausdrücklich bestätigen.
refusal-own-request = Den eigenen Antrag entscheidet eine andere Person (Vier-Augen-Prinzip).
taken-slug = Dieses Kürzel ist schon vergeben.
taken-contract-number = Diese Vertragsnummer ist schon vergeben.
taken-application-slug = Dieses Kürzel hat der Kunde schon für ein anderes Verfahren.
taken-price-valid-from = Für diesen Tag gibt es schon eine Preisversion; bitte diese ändern.
taken-login = Dieser Anmeldename ist schon vergeben.
taken-open-approval = Darüber ist bereits ein Antrag offen; bitte dessen Entscheidung abwarten.
taken-release-version = Diese Version wurde für dieses Verfahren bereits geliefert.

## The REST API's field messages and details (api::*)
api-no-authorization = Es fehlt der Header „Authorization: Bearer …“.
api-bearer-only = Nur „Authorization: Bearer <Token>“ wird unterstützt.
api-token-unknown = Das Token ist unbekannt, abgelaufen oder widerrufen.
api-token-several-customers = Die Gruppen des Tokens ordnen es mehreren Kunden zu ({ $customers }); ein Konto handelt für genau einen Kunden.
api-token-no-role = Das Token ist gültig, aber keine seiner Gruppen gibt eine Rolle in Kontor.
api-query-unreadable = Die Abfrageparameter sind nicht lesbar: { $why }
api-body-schema = Der JSON-Inhalt passt nicht zum Schema: { $why }
api-query-control = Steuerzeichen (etwa Null-Bytes) sind in Abfrageparametern nicht erlaubt.
api-query-unnamed = Jeder Abfrageparameter braucht einen Namen („name=wert“).
api-cursor-unknown = Diesen Cursor hat Kontor nicht ausgegeben; bitte `next` der vorigen Seite verwenden.
api-unknown-csv-format = Unbekanntes Format; erlaubt sind „rfc4180“ oder keine Angabe (deutsches Tabellenformat).
api-if-match-contract = Bitte das ETag des gelesenen Vertrags angeben, z. B. "3f2a…".
invalid-whole-number-range = Bitte eine ganze Zahl von { $min } bis { $max } angeben.
invalid-id = Bitte eine Id (positive ganze Zahl) angeben.
invalid-positive-number = Bitte eine positive ganze Zahl angeben.
invalid-application-id = Bitte eine Verfahrens-Id (ganze Zahl) angeben.
invalid-boolean = Bitte true oder false angeben.
invalid-date = Bitte ein Datum im Format JJJJ-MM-TT angeben.
invalid-product-empty = Bitte ein Produkt angeben.
invalid-product-not-in-catalogue = Dieses Produkt gibt es nicht im Katalog.
invalid-catalog-product-unknown = Dieses Produkt gibt es nicht.
invalid-product-size = Dieses Produkt gibt es in dieser Größe nicht.
invalid-reason-empty = Bitte den Antrag begründen.
invalid-at-most-entries = Höchstens { $max } Angaben.
invalid-promotion-stage = Bitte abnahme, schulung oder produktion angeben.
