overview-waiting = { $count ->
    [one] One request is
   *[other] { $shown } requests are
} waiting for your decision.
overview-to-approvals = To the approvals
overview-kontingent-before = What is booked under each contract, measured against its
overview-kontingent-after = : the agreed ceilings and the monthly budget.
overview-request-increase = Request a quota increase
overview-cost-this-month = Cost in the current month
overview-see-statement = View the statement
overview-no-contract = There is no contract for this authority yet.
overview-applications-heading = Applications and stages
overview-no-applications = No applications created yet.
overview-matrix-caption = Bookings by application and stage
overview-no-booking = no booking
overview-new-booking = New booking in the catalogue
overview-all-before = All customers and their
overview-all-caption = Contracts and quota utilisation
overview-kontingent-link = quota
