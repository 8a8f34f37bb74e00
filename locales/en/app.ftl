# Messages of the use cases (src/app): validation messages, conflicts,
# contract refusals. Notification texts, audit entries and deployment
# messages stay German and are not here.

## Validation messages (a field of a form or of a JSON body)

invalid-contract-of-customer = Please choose a contract of this customer.
invalid-customer-unknown = This customer does not exist.
invalid-reject-reason = Please give a reason for the rejection; the requester will see it.
invalid-size-no-price = This size has no price yet; it cannot be booked.
invalid-product-unknown = This product is not in the catalogue.
invalid-size-same = The booking already has size { $size }.
invalid-size-of-product = The product does not come in this size.
invalid-size-unknown = This size does not exist.
invalid-price-from = A new price can start tomorrow at the earliest; past prices have been billed.
invalid-kontingent-unchanged = Please give at least one ceiling a new value.
invalid-kontingent-empty = Please give at least one ceiling.
invalid-sort = Can be sorted by: { $fields } (with a leading “-” for descending order).
invalid-search = Please enter a single line of at most { $max } characters.
invalid-webhook-url = Please enter a complete address, e.g. https://receiver.example.org/kontor.
invalid-webhook-https = Webhooks are only sent to https:// addresses.
invalid-webhook-host = The address names no server.
invalid-webhook-credentials = Credentials do not belong in the address; the signature identifies Kontor.
invalid-promotion-into-first = A release enters Pre-testing after its check-up, not through an approval.
invalid-promotion-release = This application has no accepted release with this id.
invalid-release-image = Please give an image reference.
invalid-release-checksum-name = A checksum name is empty, longer than { $max } characters or contains control characters: “{ $name }”.
invalid-token-name = Please give the token a name, e.g. that of the system using it.
invalid-token-name-long = The name may be at most { $max } characters long.
invalid-token-expiry-past = The expiry date must be in the future.
invalid-token-expiry-year = A token is valid for one year at most.

## Conflicts: the object's state does not allow the change

conflict-application-same-contract = The application already runs under this contract.
conflict-request-decided = This request has already been decided.
conflict-booking-cancelled = This booking has already been cancelled.
conflict-price-started = This price already applies and has been billed; please create a new price version.
conflict-idempotency-other-request = This Idempotency-Key has already been used for a different request.
conflict-idempotency-running = A concurrent request with this Idempotency-Key is still running.
conflict-retry-not-failed = Only a failed deployment can be retried.
conflict-retry-superseded = There has been a newer deployment in this stage since; this deployment is out of date.
conflict-environment-bookings = { $count ->
        [one] There is still { $count } active booking
       *[other] There are still { $count } active bookings
    } in this environment; please cancel { $count ->
        [one] it
       *[other] them
    } first.
conflict-kontingent-request-open = A quota request for contract { $number } is already open; please wait for its decision or withdraw it.
conflict-kontingent-cosign-first = An increase of the monthly budget first needs the co-signature of the customer's finance team.
conflict-kontingent-below-use = The new values would be below what is already booked ({ $limits }); the request cannot be approved like this. Lowering below usage is only possible in the contract form, with explicit confirmation.
conflict-kontingent-cosign-not-needed = This request needs no co-signature: only an increase of the monthly budget is co-signed by the customer's finance team.
conflict-kontingent-cosigned = This request has already been co-signed.
conflict-promotion-not-running = Release { $version } is not running successfully in { $stage }; only what runs in the stage before is promoted (or what has run in the target stage before).
conflict-promotion-running = Release { $version } is already running in { $stage }.
conflict-promotion-open = This application already has an open approval request for { $stage }.

## Contract refusals: the contract does not run today

contract-not-valid-booking = Contract { $number } is valid from { $from } to { $until }; nothing can be booked under it today.
contract-not-valid-resize = Contract { $number } is valid from { $from } to { $until }; enlarging is not possible today.
contract-not-valid-move = Contract { $number } is valid from { $from } to { $until }; the application's bookings cannot run under it today.
