# The audit log's words below the page: what each action and kind of
# object is called, the labels of the recorded fields and their values, and
# the sentence of each entry. Ids built from the log's vocabulary
# (src/domain/audit): audit-action-<action>, audit-object-<type>(-acc),
# audit-field-<key>, with dots and underscores as hyphens.

## Actions (the "Action" column and the filter)
audit-action-booking-created = booked
audit-action-booking-resized = size changed
audit-action-booking-cancelled = cancelled
audit-action-booking-moved = moved to another contract
audit-action-booking-provisioned = provisioned
audit-action-environment-dissolved = environment dissolved
audit-action-release-delivered = delivered
audit-action-release-refused = release refused
audit-action-promotion-requested = approval requested
audit-action-promotion-approved = approval granted
audit-action-promotion-rejected = approval rejected
audit-action-promotion-withdrawn = request withdrawn
audit-action-kontingent-request-created = quota requested
audit-action-kontingent-request-approved = quota request approved
audit-action-kontingent-request-rejected = quota request rejected
audit-action-kontingent-request-withdrawn = quota request withdrawn
audit-action-kontingent-request-cosigned = quota request co-signed
audit-action-deployment-succeeded = deployment succeeded
audit-action-deployment-failed = deployment failed
audit-action-deployment-superseded = deployment superseded
audit-action-deployment-retried = deployment retried
audit-action-customer-created = customer created
audit-action-customer-updated = customer changed
audit-action-contract-created = contract created
audit-action-contract-updated = contract changed
audit-action-contract-kontingent-changed = quota changed
audit-action-application-created = application created
audit-action-application-renamed = application renamed
audit-action-application-moved = application moved
audit-action-product-created = product created
audit-action-product-size-updated = product size changed
audit-action-price-created = price created
audit-action-price-updated = price changed
audit-action-statement-closed = statement closed
audit-action-token-created = API token created
audit-action-token-revoked = API token revoked
audit-action-user-created = user account created
audit-action-user-roles-changed = roles changed
audit-action-notifications-preferences = notifications changed
audit-action-webhook-created = webhook created
audit-action-webhook-deleted = webhook removed
audit-action-audit-pruned = audit log shortened

## Kinds of object: the noun, and the noun as a sentence's object
audit-object-booking = Booking
audit-object-booking-acc = booking
audit-object-environment = Environment
audit-object-environment-acc = environment
audit-object-release = Release
audit-object-release-acc = release
audit-object-promotion = Approval request
audit-object-promotion-acc = approval request
audit-object-deployment = Deployment
audit-object-deployment-acc = deployment
audit-object-kontingent = Quota change request
audit-object-kontingent-acc = quota change request
audit-object-contract = Contract
audit-object-contract-acc = contract
audit-object-customer = Customer
audit-object-customer-acc = customer
audit-object-application = Application
audit-object-application-acc = application
audit-object-product = Product
audit-object-product-acc = product
audit-object-product-size = Product size
audit-object-product-size-acc = product size
audit-object-price = Price
audit-object-price-acc = price
audit-object-statement = Statement
audit-object-statement-acc = statement
audit-object-api-token = API token
audit-object-api-token-acc = API token
audit-object-user = User account
audit-object-user-acc = user account
audit-object-webhook = Webhook
audit-object-webhook-acc = webhook
audit-object-audit-log = Audit log
audit-object-audit-log-acc = audit log

## Recorded fields
audit-field-login = Login name
audit-field-number = Contract number
audit-field-title = Title
audit-field-slug = Short name
audit-field-name = Name
audit-field-description = Description
audit-field-customer-id = Customer
audit-field-contract-id = Contract
audit-field-application-id = Application
audit-field-stage = Stage
audit-field-product = Product
audit-field-product-size-id = Product size
audit-field-size = Size
audit-field-state = Status
audit-field-lifecycle = Condition
audit-field-release = Release
audit-field-release-id = Release
audit-field-version = Version
audit-field-image = Image
audit-field-checkup = Check-up
audit-field-from = from stage
audit-field-to = to stage
audit-field-deployment = Deployment
audit-field-valid-from = valid from
audit-field-valid-until = valid until
audit-field-kostenstelle = Cost centre
audit-field-haushaltsstelle = Budget item
audit-field-leitweg-id = Leitweg-ID
audit-field-billing-model = Billing model
audit-field-base-fee-cents = Base fee
audit-field-max-millicpu = vCPU limit
audit-field-max-memory-mib = Memory limit
audit-field-max-storage-gib = Storage limit
audit-field-monthly-budget-cents = Monthly budget
audit-field-vcpu-millicores = vCPU
audit-field-millicpu = vCPU
audit-field-memory-mib = Memory
audit-field-storage-gib = Storage
audit-field-pods = Pods
audit-field-rate = Price per hour
audit-field-month = Month
audit-field-lines = Line items
audit-field-total-cents = Amount
audit-field-expires-at = expires
audit-field-revoked-at = revoked on
audit-field-subject = Identifier at the identity provider
audit-field-roles = Roles
audit-field-groups = Groups
audit-field-entries = Entries
audit-field-checkpoint-seq = Checkpoint (position)
audit-field-checkpoint-hash = Checkpoint (hash)
audit-field-url = Address
audit-field-email-off = no e-mail for
audit-field-reason = Reason
audit-field-kontingent = Quota
audit-field-kontingent-request = Quota request
audit-field-justification = Justification of the request
audit-field-cosigned-by = co-signed by (no.)
audit-field-below-use-confirmed = below what is booked, confirmed
audit-field-message = Message

## Recorded values in words
audit-value-yes = yes
audit-value-no = no
audit-value-number = No. { $id }
audit-value-never = never
audit-value-no-customer = none (provider)
audit-value-no-roles = none
audit-value-all-emails-on = nothing (all e-mails on)
audit-value-release = Release { $id }
audit-value-deployment = Deployment { $id }
audit-value-deployment-running = running
audit-value-deployment-succeeded = succeeded
audit-value-deployment-failed = failed
audit-value-deployment-superseded = superseded
audit-value-lifecycle-empty = empty
audit-value-lifecycle-active = active
audit-value-lifecycle-dissolved = dissolved
audit-value-checkup-passed = passed
audit-value-checkup-refused = refused

## The sentence of an entry (without its full stop). Each gets $who (the
## person), $id (the object's number) and $obj (the object with its
## number, "contract 17").
audit-sentence-unknown-object = "{ $type }" { $id }
audit-sentence-booking-created = { $who } booked booking { $id } in size { $size } for { $stage }
audit-sentence-created = { $who } created { $obj }
audit-sentence-updated = { $who } changed { $obj }
audit-sentence-deleted = { $who } deleted { $obj }
audit-sentence-booking-resized = { $who } resized booking { $id } from size { $old } to { $new }
audit-sentence-booking-resized-plain = { $who } changed the size of booking { $id }
audit-sentence-booking-cancelled = { $who } cancelled booking { $id }
audit-sentence-booking-provisioned = { $who } provisioned booking { $id } in the cluster
audit-sentence-booking-moved = { $who } moved booking { $id } to contract { $contract }; it continues there as booking { $carried }
audit-sentence-booking-moved-plain = { $who } moved booking { $id } to another contract
audit-sentence-application-renamed = { $who } renamed application { $id } to { $name }
audit-sentence-application-renamed-plain = { $who } renamed application { $id }
audit-sentence-application-moved = { $who } moved application { $id } to contract { $contract }
audit-sentence-application-moved-plain = { $who } moved application { $id } to another contract
audit-sentence-environment-dissolved = { $who } dissolved environment { $id }
audit-sentence-release-delivered = { $who } delivered version { $version } (release { $id })
audit-sentence-release-delivered-plain = { $who } delivered release { $id }
audit-sentence-release-refused = { $who } submitted a release; the check-up refused it (release { $id })
audit-sentence-promotion-requested = { $who } requested approval for { $to } (approval request { $id })
audit-sentence-filed = { $who } submitted { $obj }
audit-sentence-approved = { $who } approved { $obj }
audit-sentence-rejected = { $who } rejected { $obj }
audit-sentence-withdrawn = { $who } withdrew { $obj }
audit-sentence-kontingent-changed = { $who } changed the quota of contract { $id } (quota request { $request })
audit-sentence-kontingent-changed-plain = { $who } changed the quota of contract { $id }
audit-sentence-cosigned = { $who } co-signed { $obj }
audit-sentence-deployment-succeeded = { $who } reports deployment { $id } as successful
audit-sentence-deployment-failed = { $who } reports deployment { $id } as failed
audit-sentence-deployment-superseded = { $who } superseded deployment { $id } with a newer one
audit-sentence-deployment-retried = { $who } retried deployment { $id }
audit-sentence-statement-closed = { $who } closed statement { $id } for { $month }
audit-sentence-closed = { $who } closed { $obj }
audit-sentence-revoked = { $who } revoked { $obj }
audit-sentence-user-created = { $who } logged in for the first time; user account { $id } was created
audit-sentence-user-roles-changed = When { $who } logged in, the customer or the roles of user account { $id } changed
audit-sentence-notifications-preferences = { $who } set the e-mail notifications of user account { $id }
audit-sentence-removed = { $who } removed { $obj }
# $entries is the number as recorded; $count selects the form.
audit-sentence-audit-pruned = { $who } deleted { $count ->
        [one] { $entries } entry
       *[other] { $entries } entries
    } of the audit log after the retention period
audit-sentence-audit-pruned-plain = { $who } deleted entries of the audit log after the retention period
audit-sentence-unknown = { $who }: "{ $action }" on { $noun } { $id }

## The audit log's filters (API and page)
audit-filter-date = Please enter a date (YYYY-MM-DD) or an instant according to RFC 3339 (2026-12-01T08:00:00Z).
audit-filter-end-before-start = The end of the period lies before its start.
audit-filter-positive = Please enter a positive whole number.
audit-filter-object-type = Not an object type (such as "booking" or "contract").
audit-filter-action = Not an action (such as "booking.resized").
audit-filter-cursor = Unknown cursor; please use the value of "next" from the previous answer.

## The hash chain's verification: what is wrong, at the first place
audit-chain-altered = Entry { $id } has been altered: { $detail }
audit-chain-inserted = Entry { $id } has been inserted past Kontor: { $detail }
audit-chain-deleted-entry = Entry { $id } has been deleted
audit-chain-deleted-entries = Entries { $first } to { $last } have been deleted
audit-chain-deleted-position = The entry at position { $from } has been deleted
audit-chain-deleted-positions = The entries at positions { $from } to { $to } have been deleted
audit-chain-between = between entry { $previous } and entry { $next }
audit-chain-before = before entry { $next }
audit-chain-after = after entry { $previous }, at the end of the chain
# $which is one of the four above, with the neighbours in parentheses.
audit-chain-deleted = { $which }; positions { $from }–{ $to } of the chain are missing
audit-chain-hash-missing = its hash is missing
audit-chain-content-changed = its content no longer matches its hash
audit-chain-next-points-elsewhere = the entry after it, { $next }, points to another hash (changed and hashed anew)
audit-chain-not-at-checkpoint = it does not follow on from the retention checkpoint
audit-chain-beyond-head = its position { $at } lies beyond the head of the chain ({ $head })
audit-chain-recomputed = its hash is no longer the one the verification of { $at } saw (the chain has been recomputed from here)
audit-chain-not-in-chain = it is not in the chain
audit-chain-head-differs = the head of the chain records another hash
audit-chain-noted-genesis = Position 0 is the start of the chain; its hash is 64 zeros
audit-chain-noted-recomputed = Entry { $id } at position { $seq } no longer carries the noted hash: the chain has been recomputed from here
audit-chain-noted-checkpoint = The retention checkpoint records another hash at position { $seq } than the one noted
audit-chain-noted-beyond-head = The chain ends at position { $head }; the entries up to the noted position { $seq } are missing
audit-chain-noted-missing = The entry at position { $seq } is missing
audit-chain-prune-stopped = Retention stops deleting because the chain is broken: { $problem }. Please run “kontor audit verify”.
