"""One journey through Kontor's REST API with a client generated from its
OpenAPI document (openapi-python-client): typed calls and typed answers,
no hand-written HTTP. scripts/client-journey.sh generates the client
(package `kontor_client`, on PYTHONPATH), starts a fresh Kontor with the
demo data and runs this with

    KONTOR_URL             the running Kontor
    KONTOR_TOKEN_BETREIBER, KONTOR_TOKEN_SYSTEMPFLEGER, KONTOR_TOKEN_FINANZEN
                           API tokens of those demo users

Each step asserts the answers it gets; the first one that fails ends the
run with its name, what was expected and what came back.
"""

from __future__ import annotations

import datetime
import importlib
import os
import sys
import time
import traceback
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from kontor_client import AuthenticatedClient
from kontor_client.api.abrechnung import get_contracts_id_statements_month, get_statements
from kontor_client.api.buchungen import (
    get_bookings,
    get_bookings_id,
    post_bookings,
    post_bookings_id_cancel,
    post_bookings_id_resize,
)
from kontor_client.api.katalog import get_catalog_prices, post_catalog_prices
from kontor_client.api.kunden import get_customers, get_customers_id, post_customers
from kontor_client.api.verfahren import (
    get_applications,
    get_applications_id,
    patch_applications_id,
    post_applications_id_move,
    post_customers_id_applications,
)
from kontor_client.models import (
    ApplicationView,
    BillingModel,
    BookingPage,
    BookingState,
    BookingView,
    ContractView,
    CreateApplication,
    CreateBooking,
    CreateContract,
    CreateCustomer,
    CreatePrice,
    Customer,
    CustomerPage,
    GetCatalogPricesSize,
    GetCustomersSort,
    KontingentInput,
    MoveApplication,
    RenameApplication,
    PriceVersionView,
    Problem,
    ReplaceContract,
    ResizeBooking,
    Size,
    Stage,
    StatementList,
    StatementView,
)
from kontor_client.types import Response

# The tag "Verträge" becomes a module name with an umlaut; import it by name
# rather than spell it in an import statement.
_vertraege = importlib.import_module("kontor_client.api.vertr_ä_ge")
get_contracts_id = importlib.import_module(_vertraege.__name__ + ".get_contracts_id")
post_contracts = importlib.import_module(_vertraege.__name__ + ".post_contracts")
put_contracts_id = importlib.import_module(_vertraege.__name__ + ".put_contracts_id")

PROBLEM = "urn:kontor:problem:"


class JourneyFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise JourneyFailure(message)


def answer(response: Response[Any], status: int, kind: type) -> Any:
    """The parsed answer, after checking its status and its type."""
    detail = response.content.decode("utf-8", "replace")[:800]
    check(
        response.status_code == status,
        f"expected {status}, got {int(response.status_code)}: {detail}",
    )
    check(
        isinstance(response.parsed, kind),
        f"expected a {kind.__name__}, got {type(response.parsed).__name__}: {detail}",
    )
    return response.parsed


def refusal(response: Response[Any], status: int, kind: str) -> Problem:
    """The problem document of a refusal, after checking status and `type`."""
    problem = answer(response, status, Problem)
    check(
        problem.type_ == PROBLEM + kind,
        f"expected problem type {PROBLEM + kind}, got {problem.type_}: {problem.detail}",
    )
    check(bool(problem.detail), "the problem has no detail")
    return problem


def items(response: Response[Any], status: int = 200) -> list:
    """The items of a page of a list ({items, next, total}, docs/api.md)."""
    detail = response.content.decode("utf-8", "replace")[:800]
    check(response.status_code == status, f"expected {status}, got {int(response.status_code)}: {detail}")
    page = response.parsed
    check(isinstance(getattr(page, "items", None), list), f"expected a page of a list, got {type(page).__name__}")
    following = getattr(page, "next_", getattr(page, "next", None))
    check(following is None or isinstance(following, str), f"next {following!r}")
    return page.items


STEP = ["(start)"]
STARTED = time.monotonic()


@contextmanager
def step(name: str):
    STEP[0] = name
    start = time.monotonic()
    yield
    print(f"client journey: ok   {name} ({time.monotonic() - start:.2f} s)", flush=True)


def client(role: str) -> AuthenticatedClient:
    token = os.environ.get(f"KONTOR_TOKEN_{role.upper()}")
    check(bool(token), f"KONTOR_TOKEN_{role.upper()} is not set")
    return AuthenticatedClient(
        base_url=os.environ["KONTOR_URL"],
        token=token,
        timeout=30.0,
        raise_on_unexpected_status=True,
    )


def kontingent(vcpu: int, memory_gib: int, storage_gib: int, budget_eur: int) -> KontingentInput:
    return KontingentInput(
        vcpu_millicores=vcpu * 1000,
        memory_mib=memory_gib * 1024,
        storage_gib=storage_gib,
        monthly_budget_cents=budget_eur * 100,
    )


def betreiber_customer_contract_application(betreiber: AuthenticatedClient) -> None:
    today = datetime.date.today()
    terms: dict[str, Any] = dict(
        number="DLV-2026-9001",
        title="Betrieb des Fachverfahrens Wohngeld",
        valid_from=datetime.date(today.year, 1, 1),
        valid_until=datetime.date(today.year + 1, 12, 31),
        kostenstelle="4711-900",
        haushaltsstelle="0610.53100",
        leitweg_id="05315000-9876598765-42",
        billing_model=BillingModel.NUTZUNG,
    )

    with step("1a Betreiber: create a customer"):
        created = post_customers.sync_detailed(
            client=betreiber,
            body=CreateCustomer(slug="wohnstadt", name="Gemeinde Wohnstadt"),
            idempotency_key="journey-customer-1",
        )
        customer = answer(created, 201, Customer)
        check(customer.slug == "wohnstadt", f"slug {customer.slug!r}")
        check(
            created.headers.get("location") == f"/api/v1/customers/{customer.id}",
            f"Location {created.headers.get('location')!r}",
        )

    with step("1b Betreiber: create a contract with a Kontingent"):
        contract = answer(
            post_contracts.sync_detailed(
                client=betreiber,
                body=CreateContract(
                    customer_id=customer.id,
                    kontingent=kontingent(8, 32, 500, 900),
                    **terms,
                ),
            ),
            201,
            ContractView,
        )
        check(contract.customer_id == customer.id, f"customer_id {contract.customer_id}")
        check(contract.kontingent.vcpu_millicores == 8000, f"Kontingent {contract.kontingent}")
        check(contract.used.vcpu_millicores == 0, f"used {contract.used}")

    with step("1c Betreiber: create an application under it"):
        application = answer(
            post_customers_id_applications.sync_detailed(
                customer.id,
                client=betreiber,
                body=CreateApplication(contract_id=contract.id, slug="wohngeld", name="Wohngeld"),
            ),
            201,
            ApplicationView,
        )
        check(application.contract_id == contract.id, f"contract_id {application.contract_id}")
        check(application.customer_id == customer.id, f"customer_id {application.customer_id}")

    with step("1d Betreiber: read customer, contract and application back"):
        again = answer(get_customers_id.sync_detailed(customer.id, client=betreiber), 200, Customer)
        check(again.name == "Gemeinde Wohnstadt", f"name {again.name!r}")
        read = get_contracts_id.sync_detailed(contract.id, client=betreiber)
        read_contract = answer(read, 200, ContractView)
        check(read_contract.number == "DLV-2026-9001", f"number {read_contract.number!r}")
        check(read_contract.kontingent.monthly_budget_cents == 90000, f"Kontingent {read_contract.kontingent}")
        etag = read.headers.get("etag")
        check(bool(etag), "GET /contracts/{id} sent no ETag")
        app_again = answer(get_applications_id.sync_detailed(application.id, client=betreiber), 200, ApplicationView)
        check(app_again.slug == "wohngeld", f"slug {app_again.slug!r}")

    with step("1e Betreiber: change the contract with PUT and If-Match"):
        changed_terms = dict(terms, title="Betrieb der Fachverfahren Wohngeld und BAföG")
        changed = put_contracts_id.sync_detailed(
            contract.id,
            client=betreiber,
            body=ReplaceContract(kontingent=kontingent(12, 48, 500, 1200), **changed_terms),
            if_match=etag,
        )
        replaced = answer(changed, 200, ContractView)
        check(replaced.title == changed_terms["title"], f"title {replaced.title!r}")
        check(replaced.kontingent.vcpu_millicores == 12000, f"Kontingent {replaced.kontingent}")
        new_etag = changed.headers.get("etag")
        check(bool(new_etag) and new_etag != etag, f"ETag after the change {new_etag!r}, before {etag!r}")

    with step("1f Betreiber: a stale If-Match is refused with 412, nothing changed"):
        refusal(
            put_contracts_id.sync_detailed(
                contract.id,
                client=betreiber,
                body=ReplaceContract(kontingent=kontingent(1, 4, 10, 10), **terms),
                if_match=etag,
            ),
            412,
            "precondition-failed",
        )
        after = answer(get_contracts_id.sync_detailed(contract.id, client=betreiber), 200, ContractView)
        check(after.kontingent.vcpu_millicores == 12000, f"Kontingent after the refusal {after.kontingent}")
        check(after.title == changed_terms["title"], f"title after the refusal {after.title!r}")

    with step("1g Betreiber: page through the customers one at a time"):
        seen: list[int] = []
        cursor = None
        while True:
            if cursor is None:
                page = get_customers.sync_detailed(client=betreiber, limit="1", sort=GetCustomersSort.ID)
            else:
                page = get_customers.sync_detailed(client=betreiber, limit="1", sort=GetCustomersSort.ID, cursor=cursor)
            parsed = answer(page, 200, CustomerPage)
            check(len(parsed.items) <= 1, f"{len(parsed.items)} items with limit=1")
            seen.extend(c.id for c in parsed.items)
            following = getattr(parsed, "next_", getattr(parsed, "next", None))
            if not following:
                check(len(seen) == parsed.total, f"{len(seen)} customers seen, total {parsed.total}")
                break
            cursor = following
        check(seen == sorted(seen), f"sort=id gives ids in order: {seen}")
        check(customer.id in seen, f"the new customer {customer.id} is not among {seen}")

    with step("1h Betreiber: rename the application and move it to a second contract"):
        renamed = answer(
            patch_applications_id.sync_detailed(
                application.id, client=betreiber, body=RenameApplication(name="Wohngeld digital")
            ),
            200,
            ApplicationView,
        )
        check(renamed.name == "Wohngeld digital" and renamed.slug == "wohngeld", f"{renamed}")
        second = answer(
            post_contracts.sync_detailed(
                client=betreiber,
                body=CreateContract(
                    customer_id=customer.id,
                    kontingent=kontingent(4, 16, 100, 500),
                    **dict(terms, number=terms["number"] + "-2"),
                ),
            ),
            201,
            ContractView,
        )
        moved = answer(
            post_applications_id_move.sync_detailed(
                application.id, client=betreiber, body=MoveApplication(contract_id=second.id)
            ),
            200,
            ApplicationView,
        )
        check(moved.contract_id == second.id, f"contract_id after the move {moved.contract_id}")
        refusal(
            post_applications_id_move.sync_detailed(
                application.id, client=betreiber, body=MoveApplication(contract_id=second.id)
            ),
            409,
            "conflict",
        )


def betreiber_price(betreiber: AuthenticatedClient) -> None:
    # Tomorrow at the earliest in Germany; two days ahead holds at any hour.
    valid_from = datetime.date.today() + datetime.timedelta(days=2)

    with step("2a Betreiber: add a price version"):
        before = items(get_catalog_prices.sync_detailed(
                client=betreiber, product="container-namespace", size=GetCatalogPricesSize.M
            ))
        check(len(before) >= 1, "no price history for container-namespace M")
        created = post_catalog_prices.sync_detailed(
            client=betreiber,
            body=CreatePrice(
                product="container-namespace",
                size=Size.M,
                valid_from=valid_from,
                price_per_hour="0.2499",
            ),
        )
        price = answer(created, 201, PriceVersionView)
        check(price.price_per_hour == "0.2499", f"price {price.price_per_hour!r}")
        check(price.size == Size.M, f"size {price.size}")

    with step("2b Betreiber: read the price history"):
        history = items(get_catalog_prices.sync_detailed(
                client=betreiber, product="container-namespace", size=GetCatalogPricesSize.M
            ))
        check(len(history) == len(before) + 1, f"{len(history)} versions, expected {len(before) + 1}")
        check(all(isinstance(v, PriceVersionView) for v in history), "untyped history")
        ids = [v.id for v in history]
        check(price.id in ids, f"new version {price.id} not in {ids}")
        newest = next(v for v in history if v.id == price.id)
        check(not newest.valid_until, f"the newest version ends {newest.valid_until!r}")
        previous = [v for v in history if v.id != price.id and v.valid_until == newest.valid_from]
        check(len(previous) == 1, f"no version ends when the new one starts ({newest.valid_from}): {history}")


def systempfleger_bookings(sp: AuthenticatedClient) -> None:
    with step("3a Systempfleger:in: book a size in an application of the customer"):
        applications = items(get_applications.sync_detailed(client=sp))
        check(len(applications) >= 1, "the Systempfleger:in sees no application")
        application = applications[0]
        created = post_bookings.sync_detailed(
            client=sp,
            body=CreateBooking(
                application_id=application.id,
                stage=Stage.SCHULUNG,
                product="container-namespace",
                size=Size.S,
            ),
            idempotency_key="journey-booking-1",
        )
        booking = answer(created, 201, BookingView)
        check(booking.application_id == application.id, f"application_id {booking.application_id}")
        check(booking.size == Size.S and booking.stage == Stage.SCHULUNG, f"{booking.size} {booking.stage}")
        check(booking.state != BookingState.GEKUENDIGT, f"state {booking.state}")
        check(
            created.headers.get("location") == f"/api/v1/bookings/{booking.id}",
            f"Location {created.headers.get('location')!r}",
        )

    with step("3b Systempfleger:in: the booking is in the list"):
        page = answer(
            get_bookings.sync_detailed(client=sp, application_id=application.id, stage=Stage.SCHULUNG),
            200,
            BookingPage,
        )
        check(booking.id in [b.id for b in page.items], f"booking {booking.id} not in {[b.id for b in page.items]}")

    with step("3c Systempfleger:in: resize it"):
        resized = answer(post_bookings_id_resize.sync_detailed(booking.id, client=sp, body=ResizeBooking(size=Size.M)), 200, BookingView)
        check(resized.size == Size.M, f"size {resized.size}")
        periods = resized.periods if isinstance(resized.periods, list) else []
        check([p.size for p in periods] == [Size.S, Size.M], f"periods {periods}")

    with step("3d Systempfleger:in: cancel it"):
        cancelled = answer(post_bookings_id_cancel.sync_detailed(booking.id, client=sp), 200, BookingView)
        check(cancelled.state == BookingState.GEKUENDIGT, f"state {cancelled.state}")
        again = answer(get_bookings_id.sync_detailed(booking.id, client=sp), 200, BookingView)
        check(again.state == BookingState.GEKUENDIGT, f"state read back {again.state}")

    with step("3e Systempfleger:in: a booking beyond the Kontingent is 409 kontingent-exceeded"):
        # Book XL until the Kontingent is full (the demo contract has room
        # for at most two), then once more.
        fillers: list[int] = []
        problem = None
        for _ in range(6):
            attempt = post_bookings.sync_detailed(
                client=sp,
                body=CreateBooking(
                    application_id=application.id,
                    stage=Stage.PRODUKTION,
                    product="container-namespace",
                    size=Size.XL,
                ),
            )
            if attempt.status_code == HTTPStatus.CREATED:
                fillers.append(answer(attempt, 201, BookingView).id)
                continue
            total_before = answer(get_bookings.sync_detailed(client=sp), 200, BookingPage).total
            problem = refusal(attempt, 409, "kontingent-exceeded")
            break
        check(problem is not None, f"six XL bookings fit the Kontingent: {fillers}")
        check(problem.limit is not None, "the refusal names no limit")
        total_after = answer(get_bookings.sync_detailed(client=sp), 200, BookingPage).total
        check(total_after == total_before, f"{total_after} bookings after the refusal, {total_before} before")
        for booking_id in fillers:
            answer(post_bookings_id_cancel.sync_detailed(booking_id, client=sp), 200, BookingView)


def finanzen_statements(finanzen: AuthenticatedClient) -> None:
    with step("4a Finanzen: list the statements"):
        listing = answer(get_statements.sync_detailed(client=finanzen), 200, StatementList)
        check(len(listing.statements) >= 1, f"no statements for {listing.month}")
        summary = listing.statements[0]
        check(summary.month == listing.month, f"month {summary.month} in the list of {listing.month}")

    with step("4b Finanzen: read one statement"):
        statement = answer(
            get_contracts_id_statements_month.sync_detailed(summary.contract_id, summary.month, client=finanzen),
            200,
            StatementView,
        )
        check(statement.contract_number == summary.contract_number, f"contract {statement.contract_number}")
        check(statement.totals.total_cents == summary.total_cents, f"total {statement.totals.total_cents} vs {summary.total_cents}")
        check(
            sum(line.amount_cents for line in statement.lines) == statement.totals.total_cents,
            "the lines do not add up to the total",
        )


def main() -> int:
    try:
        betreiber = client("betreiber")
        betreiber_customer_contract_application(betreiber)
        betreiber_price(betreiber)
        systempfleger_bookings(client("systempfleger"))
        finanzen_statements(client("finanzen"))
    except Exception as e:  # noqa: BLE001 - every failure names its step
        print(f"client journey: FAILED at step {STEP[0]!r}: {e}", file=sys.stderr)
        if not isinstance(e, JourneyFailure):
            traceback.print_exc()
        return 1
    print(f"client journey: all steps passed in {time.monotonic() - STARTED:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
