# Messages of the use cases (src/app): validation messages, conflicts,
# contract refusals. Notification texts, audit entries and deployment
# messages stay German and are not here.

## Validation messages (a field of a form or of a JSON body)

invalid-contract-of-customer = Bitte einen Vertrag dieses Kunden wählen.
invalid-customer-unknown = Diesen Kunden gibt es nicht.
invalid-reject-reason = Bitte die Ablehnung begründen; die Begründung sehen die Antragstellenden.
invalid-size-no-price = Für diese Größe gilt noch kein Preis; sie ist nicht buchbar.
invalid-product-unknown = Dieses Produkt gibt es nicht im Katalog.
invalid-size-same = Die Buchung hat bereits die Größe { $size }.
invalid-size-of-product = Diese Größe gibt es für das Produkt nicht.
invalid-size-unknown = Diese Größe gibt es nicht.
invalid-price-from = Ein neuer Preis gilt frühestens ab morgen; vergangene Preise sind abgerechnet.
invalid-kontingent-unchanged = Bitte mindestens eine Obergrenze mit einem neuen Wert angeben.
invalid-kontingent-empty = Bitte mindestens eine Obergrenze angeben.
invalid-sort = Sortierbar nach: { $fields } (mit „-“ davor absteigend).
invalid-search = Bitte eine Zeile mit höchstens { $max } Zeichen angeben.
invalid-webhook-url = Bitte eine vollständige Adresse angeben, z. B. https://empfang.example.de/kontor.
invalid-webhook-https = Webhooks werden nur an https://-Adressen gesendet.
invalid-webhook-host = Die Adresse nennt keinen Server.
invalid-webhook-credentials = Zugangsdaten gehören nicht in die Adresse; die Signatur weist Kontor aus.
invalid-promotion-into-first = In die Vorprüfung kommt eine Lieferung nach ihrem Checkup, nicht durch Freigabe.
invalid-promotion-release = Dieses Verfahren hat keine angenommene Lieferung mit dieser Id.
invalid-release-image = Bitte eine Image-Referenz angeben.
invalid-release-checksum-name = Der Name einer Prüfsumme ist leer, länger als { $max } Zeichen oder enthält Steuerzeichen: „{ $name }“.
invalid-token-name = Bitte geben Sie dem Token einen Namen, z. B. den des Systems, das es nutzt.
invalid-token-name-long = Der Name darf höchstens { $max } Zeichen lang sein.
invalid-token-expiry-past = Das Ablaufdatum muss in der Zukunft liegen.
invalid-token-expiry-year = Ein Token gilt höchstens ein Jahr.

## Conflicts: the object's state does not allow the change

conflict-application-same-contract = Das Verfahren läuft bereits unter diesem Vertrag.
conflict-request-decided = Dieser Antrag ist bereits entschieden.
conflict-booking-cancelled = Diese Buchung ist bereits gekündigt.
conflict-price-started = Dieser Preis gilt schon und ist abgerechnet; bitte eine neue Preisversion anlegen.
conflict-idempotency-other-request = Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet.
conflict-idempotency-running = Eine gleichzeitige Anfrage mit diesem Idempotency-Key läuft noch.
conflict-retry-not-failed = Nur eine fehlgeschlagene Bereitstellung kann wiederholt werden.
conflict-retry-superseded = Seitdem wurde in dieser Stufe neu bereitgestellt; diese Bereitstellung ist überholt.
conflict-environment-bookings = In dieser Umgebung { $count ->
        [one] ist noch { $count } Buchung
       *[other] sind noch { $count } Buchungen
    } aktiv; bitte erst kündigen.
conflict-kontingent-request-open = Für den Vertrag { $number } ist bereits ein Kontingent-Antrag offen; bitte dessen Entscheidung abwarten oder ihn zurückziehen.
conflict-kontingent-cosign-first = Eine Erhöhung des Monatsbudgets braucht zuerst die Zweitunterschrift der Finanzen des Kunden.
conflict-kontingent-below-use = Die neuen Werte lägen unter dem, was schon gebucht ist ({ $limits }); so kann der Antrag nicht genehmigt werden. Senken unter den Verbrauch geht nur im Vertragsformular mit ausdrücklicher Bestätigung.
conflict-kontingent-cosign-not-needed = Dieser Antrag braucht keine Zweitunterschrift: nur eine Erhöhung des Monatsbudgets wird von den Finanzen des Kunden mitgezeichnet.
conflict-kontingent-cosigned = Dieser Antrag ist bereits mitgezeichnet.
conflict-promotion-not-running = Lieferung { $version } läuft in { $stage } nicht erfolgreich; befördert wird nur, was in der Stufe davor läuft (oder in der Zielstufe schon einmal lief).
conflict-promotion-running = Lieferung { $version } läuft in { $stage } bereits.
conflict-promotion-open = Für { $stage } gibt es bereits einen offenen Freigabeantrag dieses Verfahrens.

## Contract refusals: the contract does not run today

contract-not-valid-booking = Der Vertrag { $number } gilt vom { $from } bis { $until }; heute kann darunter nicht gebucht werden.
contract-not-valid-resize = Der Vertrag { $number } gilt vom { $from } bis { $until }; vergrößern ist heute nicht möglich.
contract-not-valid-move = Der Vertrag { $number } gilt vom { $from } bis { $until }; die Buchungen des Verfahrens können heute nicht darunter laufen.
