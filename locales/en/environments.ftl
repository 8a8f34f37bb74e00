environment-empty = not set up
environment-active = set up
environment-dissolved = dissolved
environment-title = Environment { $name }
environment-word = Environment
environment-notice-dissolved = The environment is being dissolved; the namespace is being deleted.
environment-still-booked = Something is still booked in this environment; please cancel all bookings first.
environment-nothing-to-dissolve = This environment is not set up; there is nothing to dissolve.
environment-dissolve = Dissolve environment
environment-cluster = Cluster { $name }
environment-manifests = Manifest directory (GitOps)
environments-sub-before = One
environments-sub-link = environment
environments-sub-after = {" "}per application and stage: a namespace in the stage's cluster that Kontor keeps in line with the bookings.
environments-caption = Environments and their provisioning state
environment-target = Target
environment-lifecycle = State
environment-active-bookings = Active bookings
environment-none = none
environment-failed-attempts = { $count ->
    [one] { $shown } failed attempt; Kontor keeps trying.
   *[other] { $shown } failed attempts; Kontor keeps trying.
}
environment-last-attempt = Last reconciliation
environment-back = Back to the environments
dissolve-warning-title = Everything in this namespace will be deleted
dissolve-deletes = Kontor deletes the namespace
dissolve-in-cluster = in cluster { $name }
dissolve-from-manifests = from the manifest directory
dissolve-warning = – with everything running in it, including data in volumes. This cannot be undone. A new booking in this stage sets the environment up again, empty.
dissolve-objects = These objects of Kontor will be deleted
dissolve-kind = Kind
dissolve-now = Dissolve environment { $name } now
dissolve-back = Do not dissolve
