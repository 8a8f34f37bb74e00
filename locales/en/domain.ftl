# Messages of the domain, the app's errors and the REST API's details that
# name what was wrong: refusals, validation messages, conflicts.

## Typed text (domain::text, domain::slug)
invalid-text-empty = Please fill this in.
invalid-text-too-long = At most { $max } characters.
invalid-text-control = Control characters (such as null bytes) are not allowed here.
invalid-slug-empty = Please give a short name.
invalid-slug = Only lower-case letters a–z, digits and hyphens; starting with a letter, no hyphen at the end.

## Amounts (domain::money)
invalid-amount-empty = Please give an amount.
invalid-amount = “{ $input }” is not a valid amount (example: 1234.50).
invalid-amount-decimals = At most { $places } decimal { $places ->
        [one] place
       *[other] places
    }.
invalid-amount-negative = The amount must not be negative.
invalid-amount-too-large = The amount is too large.

invalid-idempotency-key = The Idempotency-Key must have 1 to 255 visible ASCII characters.

## Requests that are closed already (domain::approval)
refusal-approval-approved = This request has already been approved.
refusal-approval-rejected = This request has already been rejected.
refusal-approval-withdrawn = This request has been withdrawn.

## The Checkup's refusals of a delivery (domain::release)
refusal-malformed-image = The image reference is invalid ({ $why }); expected: registry/path@sha256:<64 hex characters>.
refusal-not-pinned = The image is not pinned by digest (…@sha256:<64 hex characters>); a tag can change later.
refusal-foreign-registry = The registry { $registry } is not on the list of allowed registries.
refusal-duplicate-version = Version { $version } has already been delivered for this application.
refusal-malformed-checksum = The checksum { $name } is invalid; expected: sha256:<64 hex characters>.
# What is wrong with an image reference, inside refusal-malformed-image.
image-why-empty-or-long = empty or too long
image-why-blank = whitespace
image-why-no-registry = no registry
image-why-path = path
image-why-digest = digest
invalid-version-empty = Please give a version.
invalid-version = Only letters, digits and . - _ +; starting with a letter or digit.

## The Kontingent (domain::kontingent; its refusal and the limits' names
## are `kontingent-refused` and `limit-…`, shared with the pages)
below-use-item = { $limit }: new { $ceiling }, booked { $booked }

## What an id enum did not understand (domain::ids)
unknown-value = { $what } “{ $value }” (allowed: { $allowed })
unknown-approval-kind = unknown kind of request
unknown-approval-state = unknown request state
unknown-billing-model = unknown billing model
unknown-booking-state = unknown booking state
unknown-channel = unknown channel
unknown-checkup = unknown check-up result
unknown-delivery-state = unknown delivery state
unknown-deployment-state = unknown deployment state
unknown-event-kind = unknown kind of event
unknown-lifecycle = unknown lifecycle
unknown-line-kind = unknown kind of line item
unknown-role = unknown role
unknown-size = unknown size
unknown-stage = unknown stage
unknown-via = unknown way of access

## A contract's fields (domain::contract)
invalid-contract-number = Only letters, digits, “-” and “/”, e.g. DLV-2026-0042.
invalid-leitweg-id = Not a valid Leitweg-ID (example: 04011000-1234512345-06).
invalid-contract-ends-before-start = The contract ends before it begins.
invalid-base-fee-only-mixed = A base fee exists only in the mixed model.

## The app's refusals (app::error)
stale-contract = The contract has been changed in the meantime. Nothing was saved; please load the current version and make the change again.
refusal-below-use = The new ceilings would be below what is booked ({ $limits }). Until use falls, no new bookings and no enlargements are then possible; please confirm explicitly.
refusal-own-request = Someone else decides your own request (four-eyes principle).
taken-slug = This short name is already taken.
taken-contract-number = This contract number is already taken.
taken-application-slug = The customer already has this short name for another application.
taken-price-valid-from = There is already a price version for this day; please change that one.
taken-login = This login name is already taken.
taken-open-approval = A request about this is already open; please wait for its decision.
taken-release-version = This version has already been delivered for this application.

## The REST API's field messages and details (api::*)
api-no-authorization = The header “Authorization: Bearer …” is missing.
api-bearer-only = Only “Authorization: Bearer <token>” is supported.
api-token-unknown = The token is unknown, expired or revoked.
api-token-several-customers = The token's groups assign it to several customers ({ $customers }); an account acts for exactly one customer.
api-token-no-role = The token is valid, but none of its groups gives a role in Kontor.
api-query-unreadable = The query parameters cannot be read: { $why }
api-body-schema = The JSON content does not match the schema: { $why }
api-query-control = Control characters (such as null bytes) are not allowed in query parameters.
api-query-unnamed = Every query parameter needs a name (“name=value”).
api-cursor-unknown = Kontor did not issue this cursor; please use `next` of the previous page.
api-unknown-csv-format = Unknown format; allowed are “rfc4180” or nothing (German spreadsheet format).
api-if-match-contract = Please give the ETag of the contract as read, e.g. "3f2a…".
invalid-whole-number-range = Please give a whole number from { $min } to { $max }.
invalid-id = Please give an id (a positive whole number).
invalid-positive-number = Please give a positive whole number.
invalid-application-id = Please give an application id (a whole number).
invalid-boolean = Please give true or false.
invalid-date = Please give a date in the format YYYY-MM-DD.
invalid-product-empty = Please give a product.
invalid-product-not-in-catalogue = This product is not in the catalogue.
invalid-catalog-product-unknown = This product does not exist.
invalid-product-size = This product does not exist in this size.
invalid-reason-empty = Please give a reason for the request.
invalid-at-most-entries = At most { $max } { $max ->
        [one] entry
       *[other] entries
    }.
invalid-promotion-stage = Please give abnahme, schulung or produktion.
