# The REST API's problem+json answers: `title` by the problem's type, and the
# details that are the same every time. Details that name what was wrong
# come from the domain and the app (domain.ftl, app.ftl).
problem-validation = Invalid input
problem-not-found = Not found
problem-unauthorized = Authentication required
problem-forbidden = Not permitted
problem-no-access = No access
problem-rate-limited = Too many requests
problem-database-unavailable = Temporarily unavailable
problem-kontingent-exceeded = Quota exceeded
problem-contract-not-valid = Contract not valid
problem-conflict = Conflict
problem-below-booked = Ceiling below what is booked
problem-precondition-failed = Changed in the meantime
problem-checkup-refused = Check-up not passed
problem-four-eyes = Four-eyes principle
problem-internal = Internal error
problem-payload-too-large = Content too large
problem-malformed-body = Malformed content
problem-unsupported-media-type = Wrong content type
problem-method-not-allowed = Method not allowed
problem-provider-unavailable = Login service unreachable
problem-detail-not-found = This object does not exist or does not belong to your area.
problem-detail-forbidden = Your role does not permit this action.
problem-detail-no-token = Please send a valid bearer token.
problem-detail-rate-limited = The request limit for this minute has been reached. Please try again after { $seconds } seconds.
problem-detail-database-unavailable = The database cannot be reached right now; nothing was changed. Please try again in a few seconds.
problem-detail-internal = An internal error occurred; nothing was changed. Error reference: { $id }
problem-detail-payload-too-large = The request's content is too large.
problem-detail-unreadable-body = The content could not be read: { $why }
problem-detail-not-json = The content is not valid JSON: { $why }
problem-detail-content-type = Please send “Content-Type: application/json”.
problem-detail-method-not-allowed = This address does not support the method.
