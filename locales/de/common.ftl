# Words that many pages share.
term-kontingent = Kontingent
term-kontingente = Kontingente
contract-number = Vertrag { $number }
contract-valid = gültig { $from } bis { $until }
contract-not-valid-now = derzeit nicht gültig
col-application = Verfahren
col-customer = Kunde
col-contract = Vertrag
col-utilisation = Auslastung
col-stage = Stufe
col-product = Produkt
col-size = Größe
col-state = Status
col-since = Seit
col-price = Preis
col-booking = Buchung
