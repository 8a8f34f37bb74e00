# Words that many pages share.
term-kontingent = Quota
term-kontingente = quotas
contract-number = Contract { $number }
contract-valid = valid { $from } to { $until }
contract-not-valid-now = not valid at present
col-application = Application
col-customer = Customer
col-contract = Contract
col-utilisation = Utilisation
col-stage = Stage
col-product = Product
col-size = Size
col-state = Status
col-since = Since
col-price = Price
col-booking = Booking
