"""The access-control matrix: every API route x every role x ids from the caller's own and another tenant.

Routes come from the URL resolver, so a new endpoint fails here until it is given a row in MATRIX.
A role outside a row's `allowed` must get 401 (anonymous) or 403; an allowed role gets a 2xx with
its own tenant's ids and a 404 with another tenant's. Any other 2xx fails the test.

transaction=True throughout: the posted spends these requests need are settled for real.
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.reimbursements.selectors import local_today
from apps.tenancy.models import Role
from tests.conftest import Tenant, client_for
from tests.factories import PASSWORD, UserFactory, otp_fields
from tests.fx.conftest import ECB_DAILY
from tests.push.conftest import browser_keys
from tests.reimbursements.claims import receipt_file
from tests.security import tenant_objects
from tests.security.routes import api_routes
from tests.spends import spend_settled

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN, Role.SYSTEM_ADMIN)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANONYMOUS}
TENANT = frozenset({Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN})
FINANCE = frozenset({Role.FINANCE_MANAGER, Role.ORG_ADMIN})
ADMIN = frozenset({Role.ORG_ADMIN})
PLATFORM = frozenset({Role.SYSTEM_ADMIN})


class World:
    """Two tenants and a system admin; ids are made on demand, fresh where a request consumes them."""

    def __init__(self) -> None:
        self.own = Tenant("Own Corp")
        self.other = Tenant("Other Corp")
        self.system_admin = UserFactory(role=Role.SYSTEM_ADMIN, email="root@matrix.example")
        self.own_spend = spend_settled(self.own.employee, "10.00")
        self.other_spend = spend_settled(self.other.employee, "10.00")
        # The spend each tenant's last fresh statement line is for (a match's body names it).
        self.line_spend = {}

    def user(self, role: str):
        if role == ANONYMOUS:
            return None
        if role == Role.SYSTEM_ADMIN:
            return self.system_admin
        return self.own.user(role)

    def path_ids(self, tenant: Tenant, route: str, method: str) -> dict[str, str]:
        """Ids the route needs, fresh where the request consumes what it names."""
        spend = self.own_spend if tenant is self.own else self.other_spend
        if route.endswith("/reverse") and tenant is self.own:
            spend = spend_settled(tenant.employee, "1.00")  # each reversal needs a posted spend of its own
        ids = {
            "department_id": str(tenant.department.id),
            "transaction_id": str(spend.id),
            "user_id": str(tenant.other_employee.id),
        }
        if "<uuid:account_id>" in route:
            ids["account_id"] = str(tenant.department.expense_account.id)
        if "<uuid:policy_id>" in route:
            ids["policy_id"] = str(tenant_objects.approval_policy(tenant).id)
        if "<uuid:rule_id>" in route:
            ids["rule_id"] = str(tenant_objects.spend_rule(tenant).id)
        if "<uuid:approval_id>" in route:
            ids["approval_id"] = str(tenant_objects.waiting_approval(tenant).id)
        if route.endswith("/unfreeze"):
            ids["user_id"] = str(tenant_objects.frozen_employee(tenant).id)  # each unfreeze needs a frozen user
        if "<uuid:run_id>" in route:
            ids["run_id"] = str(tenant_objects.report_run(tenant).id)
        if "<uuid:alert_id>" in route:
            ids["alert_id"] = str(tenant_objects.open_alert(tenant).id)
        if "<int:rate_id>" in route:
            ids["rate_id"] = str(tenant_objects.fx_rate(tenant).id)
        if "<uuid:claim_id>" in route:
            ids["claim_id"] = str(tenant_objects.approved_claim(tenant).id)
        if "<uuid:batch_id>" in route:
            # The export needs a released batch; a release or a discard consumes a draft.
            make = tenant_objects.released_batch if route.endswith("export.csv") else tenant_objects.draft_batch
            ids["batch_id"] = str(make(tenant).id)
        if "<uuid:source_id>" in route or "<uuid:import_id>" in route:
            ids.update(tenant_objects.statement_ids(tenant))
        if "<uuid:line_id>" in route:
            # Fresh: a match or a spend consumes the line; an unmatch needs a matched one.
            if route.endswith("/match") and method == "DELETE":
                ids["line_id"] = str(tenant_objects.matched_statement_line(tenant).id)
            else:
                self.line_spend[tenant] = spend_settled(tenant.employee, "2.00")
                ids["line_id"] = str(tenant_objects.statement_line_for(tenant, self.line_spend[tenant]).id)
        if "<uuid:vendor_id>" in route:
            ids["vendor_id"] = str(tenant_objects.payable_vendor(tenant).id)
        if "<uuid:change_id>" in route:
            ids["change_id"] = str(tenant_objects.pending_bank_change(tenant).id)  # a decision consumes it
        if "<uuid:bill_id>" in route:
            ids["bill_id"] = str(tenant_objects.approved_bill(tenant).id)
        if "<uuid:paying_account_id>" in route:
            ids["paying_account_id"] = str(tenant_objects.ach_paying_account(tenant).id)
        if "<uuid:payment_run_id>" in route:
            # The file needs a released run; a release or a discard consumes a draft.
            make = tenant_objects.released_payment_run if route.endswith("/file") else tenant_objects.draft_payment_run
            ids["payment_run_id"] = str(make(tenant).id)
        if "<int:payment_id>" in route:
            ids["payment_id"] = str(tenant_objects.released_payment_run(tenant).lines.get().id)  # a return consumes it
        if "<uuid:return_file_id>" in route:
            ids["return_file_id"] = str(tenant_objects.return_file(tenant).id)
        if "<uuid:receipt_id>" in route:
            ids["receipt_id"] = str(tenant_objects.receipt(tenant, spend).id)  # fresh: a DELETE consumes it
        if "<str:month>" in route:
            # Each close needs a month not closed yet; each reopen a month closed, the latest.
            make = tenant_objects.closed_month if route.endswith("/reopen") else tenant_objects.month_to_close
            ids["month"] = make(tenant) if route.endswith("/reopen") else make()
        if "<uuid:endpoint_id>" in route or "<uuid:delivery_id>" in route:
            delivery = tenant_objects.webhook_delivery(tenant)
            ids["endpoint_id"] = str(delivery.endpoint_id)
            ids["delivery_id"] = str(delivery.id)
        return ids


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Row:
    allowed: frozenset
    # The body (or query) a caller sends, given the tenant whose ids it uses.
    body: Callable[[World, Tenant], dict] | None = None
    query: Callable[[World, Tenant], dict] | None = None
    idempotent: bool = False
    # True when the route takes no id, but its body or query names the tenant's objects.
    names_tenant_objects: bool = False
    # Roles the view lets through although a business rule then refuses them (403 on their own
    # tenant's ids, 404 on another's, which does not exist for them). Defaults to `allowed`.
    gate: frozenset | None = None
    # Sent as multipart/form-data (a file upload) rather than JSON.
    multipart: bool = False
    # False when the path's parameter names no tenant's object (a month): each tenant acts on its own.
    path_names_tenant_objects: bool = True


MATRIX: dict[tuple[str, str], Row] = {
    ("POST", "auth/token"): Row(
        EVERYONE, body=lambda w, t: {"email": t.admin.email, "password": PASSWORD, **otp_fields(t.admin)}
    ),
    ("DELETE", "auth/token/revoke"): Row(SIGNED_IN),
    ("POST", "auth/password"): Row(
        SIGNED_IN, body=lambda w, t: {"current_password": PASSWORD, "new_password": "another-long-passphrase"}
    ),
    ("POST", "auth/logout-everywhere"): Row(SIGNED_IN),
    ("GET", "me"): Row(SIGNED_IN),
    ("GET", "organizations"): Row(SIGNED_IN),
    ("POST", "organizations"): Row(PLATFORM, body=lambda w, t: {"name": _unique("Org"), "currency": "USD"}),
    ("GET", "users"): Row(ADMIN | PLATFORM),
    ("POST", "users"): Row(
        ADMIN | PLATFORM,
        body=lambda w, t: {
            "email": f"{uuid.uuid4().hex[:10]}@matrix.example",
            "password": PASSWORD,
            "role": "employee",
            "department": str(t.department.id),
            "organization": str(t.organization.id),
        },
        names_tenant_objects=True,
    ),
    ("GET", "users/<uuid:user_id>"): Row(ADMIN),
    ("PATCH", "users/<uuid:user_id>"): Row(ADMIN, body=lambda w, t: {"role": "employee"}),
    ("POST", "users/<uuid:user_id>/unfreeze"): Row(ADMIN, body=lambda w, t: {"reason": "Matrix"}),
    ("GET", "departments"): Row(TENANT),
    ("POST", "departments"): Row(
        ADMIN,
        body=lambda w, t: {"name": _unique("Dept"), "monthly_limit": "100.00", "parent": str(t.department.id)},
        names_tenant_objects=True,
    ),
    ("GET", "departments/<uuid:department_id>"): Row(TENANT),
    # A finance manager may PATCH only the standing monthly_limit; a rename is the org admin's.
    ("PATCH", "departments/<uuid:department_id>"): Row(
        ADMIN, body=lambda w, t: {"name": t.department.name}, gate=FINANCE
    ),
    ("GET", "departments/<uuid:department_id>/budget"): Row(TENANT),
    ("PUT", "departments/<uuid:department_id>/budget"): Row(FINANCE, body=lambda w, t: {"limit": "50000.00"}),
    ("GET", "transactions"): Row(TENANT),
    ("POST", "transactions"): Row(
        TENANT,
        body=lambda w, t: {
            "amount": "1.00",
            "currency": "USD",
            "merchant": "Dell",
            "category": "equipment",
            "department": str(t.department.id),
        },
        idempotent=True,
        names_tenant_objects=True,
    ),
    # An item naming another tenant's department is answered 404 at its index, the batch 200
    # (tests/spending/test_bulk_api.py): the batch names no tenant's object itself.
    ("POST", "transactions/bulk"): Row(
        TENANT,
        body=lambda w, t: {
            "items": [
                {
                    "amount": "1.00",
                    "currency": "USD",
                    "merchant": "Dell",
                    "category": "equipment",
                    "department": str(t.department.id),
                }
            ]
        },
        idempotent=True,
    ),
    ("GET", "transactions/<uuid:transaction_id>"): Row(TENANT),
    ("GET", "transactions/<uuid:transaction_id>/receipts"): Row(TENANT),
    # Only the spender (the matrix's employee) attaches; finance and admins read it and are refused by the service.
    ("POST", "transactions/<uuid:transaction_id>/receipts"): Row(
        frozenset({Role.EMPLOYEE}),
        body=lambda w, t: {"file": tenant_objects.receipt_upload_file()},
        multipart=True,
        gate=TENANT,
    ),
    ("GET", "receipts/missing"): Row(FINANCE),
    ("GET", "push/key"): Row(TENANT),
    ("POST", "push/subscriptions"): Row(
        TENANT, body=lambda w, t: browser_keys().subscription("https://fcm.googleapis.com/fcm/send/matrix")
    ),
    ("GET", "receipts/<uuid:receipt_id>"): Row(TENANT),
    ("DELETE", "receipts/<uuid:receipt_id>"): Row(frozenset({Role.EMPLOYEE}), gate=TENANT),
    ("GET", "receipts/<uuid:receipt_id>/file"): Row(TENANT),
    ("GET", "receipts/<uuid:receipt_id>/thumbnail"): Row(TENANT),
    ("POST", "transactions/<uuid:transaction_id>/reverse"): Row(
        FINANCE, body=lambda w, t: {"reason": "Matrix"}, idempotent=True
    ),
    ("GET", "ledger/entries"): Row(
        FINANCE,
        query=lambda w, t: {"transaction": str(w.own_spend.id if t is w.own else w.other_spend.id)},
        names_tenant_objects=True,
    ),
    ("GET", "ledger/verify"): Row(FINANCE),
    ("GET", "ledger/accounts"): Row(FINANCE),
    ("GET", "ledger/accounts/<uuid:account_id>/balance"): Row(FINANCE),
    ("GET", "ledger/trial-balance"): Row(FINANCE, query=lambda w, t: {"month": tenant_objects.last_month()}),
    ("GET", "ledger/gl-accounts"): Row(FINANCE),
    ("GET", "ledger/months"): Row(FINANCE),
    ("POST", "ledger/months/<str:month>/close"): Row(FINANCE, path_names_tenant_objects=False),
    ("POST", "ledger/months/<str:month>/reopen"): Row(
        ADMIN, body=lambda w, t: {"reason": "Matrix"}, path_names_tenant_objects=False
    ),
    ("GET", "audit/events"): Row(ADMIN),
    ("GET", "approvals"): Row(TENANT),
    # Any tenant role may sign an approval step it is named for; these wait for a finance manager.
    ("POST", "approvals/<uuid:approval_id>/approve"): Row(
        frozenset({Role.FINANCE_MANAGER}), body=lambda w, t: {}, gate=TENANT
    ),
    ("POST", "approvals/<uuid:approval_id>/reject"): Row(
        frozenset({Role.FINANCE_MANAGER}), body=lambda w, t: {"note": "Matrix"}, gate=TENANT
    ),
    ("GET", "approval-policies"): Row(FINANCE),
    ("POST", "approval-policies"): Row(
        ADMIN, body=lambda w, t: {"name": _unique("Policy"), "min_amount": "100.00", "levels": ["finance_manager"]}
    ),
    ("DELETE", "approval-policies/<uuid:policy_id>"): Row(ADMIN),
    ("GET", "spend-policies"): Row(FINANCE),
    ("POST", "spend-policies/rules"): Row(
        FINANCE, body=lambda w, t: {"name": _unique("Rule"), "kind": "blocked_category", "category": "lottery"}
    ),
    ("GET", "spend-policies/rules/<uuid:rule_id>"): Row(FINANCE),
    ("PATCH", "spend-policies/rules/<uuid:rule_id>"): Row(FINANCE, body=lambda w, t: {"name": "Matrix"}),
    ("DELETE", "spend-policies/rules/<uuid:rule_id>"): Row(FINANCE),
    ("GET", "fx-rates"): Row(TENANT),
    ("POST", "fx-rates"): Row(FINANCE, body=lambda w, t: {"currency": "EUR", "date": "2026-12-01", "rate": "1.08"}),
    ("GET", "fx-rates/<int:rate_id>"): Row(TENANT),
    ("POST", "fx-rates/ecb-import"): Row(
        FINANCE, body=lambda w, t: {"file": SimpleUploadedFile("eurofxref.csv", ECB_DAILY)}, multipart=True
    ),
    ("GET", "fraud/alerts"): Row(FINANCE),
    ("POST", "fraud/alerts/<uuid:alert_id>/resolve"): Row(FINANCE, body=lambda w, t: {"resolution": "legitimate"}),
    ("POST", "query"): Row(TENANT, body=lambda w, t: {"q": "top expenses this month"}),
    ("GET", "reports"): Row(
        FINANCE, query=lambda w, t: {"report": "ledger-tie-out", "period": tenant_objects.last_month()}
    ),
    ("GET", "reports/dashboard"): Row(FINANCE, query=lambda w, t: {"month": tenant_objects.last_month()}),
    ("GET", "reports/runs/<uuid:run_id>"): Row(FINANCE),
    ("POST", "reports/access-review/sign-offs"): Row(
        ADMIN, body=lambda w, t: tenant_objects.access_review_sign_off_body(t)
    ),
    **{
        ("GET", f"exports/{kind}"): Row(FINANCE, query=lambda w, t: {"month": tenant_objects.last_month()})
        for kind in ("transactions", "journal", "quickbooks", "xero", "netsuite")
    },
    ("GET", "system/metrics"): Row(PLATFORM),
    ("GET", "reimbursements"): Row(TENANT),
    ("POST", "reimbursements"): Row(
        TENANT,
        body=lambda w, t: {
            "amount": "1.00",
            "currency": "USD",
            "merchant": "Taxi Co",
            "category": "travel",
            "incurred_on": str(local_today(t.organization)),
            "department": str(t.department.id),
            "receipt": receipt_file(),
        },
        idempotent=True,
        names_tenant_objects=True,
        multipart=True,
    ),
    # An employee reads their own claims; this one is the tenant's employee's.
    ("GET", "reimbursements/<uuid:claim_id>"): Row(TENANT),
    ("GET", "payout-batches"): Row(FINANCE),
    ("POST", "payout-batches"): Row(
        FINANCE,
        body=lambda w, t: {"claims": [str(tenant_objects.approved_claim(t).id)]},
        names_tenant_objects=True,
    ),
    ("GET", "payout-batches/<uuid:batch_id>"): Row(FINANCE),
    ("DELETE", "payout-batches/<uuid:batch_id>"): Row(FINANCE),
    ("POST", "payout-batches/<uuid:batch_id>/release"): Row(FINANCE),
    ("GET", "payout-batches/<uuid:batch_id>/export.csv"): Row(FINANCE),
    ("GET", "vendors"): Row(FINANCE),
    ("POST", "vendors"): Row(
        FINANCE,
        body=lambda w, t: {
            "legal_name": _unique("Vendor"),
            "default_department": str(t.department.id),
            "bank_details": {"rail": "sepa", "iban": "DE89370400440532013000"},
        },
        names_tenant_objects=True,
    ),
    ("GET", "vendors/<uuid:vendor_id>"): Row(FINANCE),
    ("PATCH", "vendors/<uuid:vendor_id>"): Row(FINANCE, body=lambda w, t: {"contact_name": "Accounts team"}),
    ("POST", "vendors/<uuid:vendor_id>/bank-changes"): Row(
        FINANCE, body=lambda w, t: {"rail": "ach", "routing_number": "011000015", "account_number": "12345678"}
    ),
    ("POST", "vendor-bank-changes/<uuid:change_id>/decision"): Row(FINANCE, body=lambda w, t: {"approve": True}),
    ("GET", "bills"): Row(FINANCE),
    ("POST", "bills"): Row(
        FINANCE,
        body=lambda w, t: {
            "vendor": str(tenant_objects.payable_vendor(t).id),
            "invoice_number": _unique("INV"),
            "amount": "3.00",
            "currency": "USD",
            "bill_date": str(local_today(t.organization)),
            "due_date": str(local_today(t.organization)),
            "invoice": receipt_file(),
        },
        idempotent=True,
        names_tenant_objects=True,
        multipart=True,
    ),
    ("GET", "bills/<uuid:bill_id>"): Row(FINANCE),
    ("GET", "paying-accounts"): Row(FINANCE),
    ("POST", "paying-accounts"): Row(
        ADMIN,
        body=lambda w, t: {
            "name": _unique("Operating"),
            "rail": "ach",
            "routing_number": "121000248",
            "account_number": "4000123456",
            "ach_company_id": "1234567890",
            "ach_company_name": "Acme Inc",
        },
    ),
    ("PATCH", "paying-accounts/<uuid:paying_account_id>"): Row(
        FINANCE, body=lambda w, t: {"scheduled_due_within_days": 7}
    ),
    ("GET", "payment-runs/preview"): Row(FINANCE, query=lambda w, t: {"due_until": str(local_today(t.organization))}),
    ("GET", "payment-runs"): Row(FINANCE),
    ("POST", "payment-runs"): Row(
        FINANCE,
        body=lambda w, t: {
            "paying_account": str(tenant_objects.ach_paying_account(t).id),
            "due_until": str(local_today(t.organization) + datetime.timedelta(days=30)),
            "execution_date": str(local_today(t.organization) + datetime.timedelta(days=1)),
            "bills": [str(tenant_objects.approved_bill(t).id)],
        },
        names_tenant_objects=True,
    ),
    ("GET", "payment-runs/<uuid:payment_run_id>"): Row(FINANCE),
    ("DELETE", "payment-runs/<uuid:payment_run_id>"): Row(FINANCE),
    ("POST", "payment-runs/<uuid:payment_run_id>/release"): Row(FINANCE),
    ("GET", "payment-runs/<uuid:payment_run_id>/file"): Row(FINANCE),
    ("POST", "payments/<int:payment_id>/return"): Row(FINANCE, body=lambda w, t: {"reason": "R03 No account"}),
    ("GET", "payment-return-files"): Row(FINANCE),
    ("POST", "payment-return-files"): Row(
        FINANCE, body=lambda w, t: {"file": tenant_objects.return_file_upload()}, multipart=True
    ),
    ("GET", "payment-return-files/<uuid:return_file_id>"): Row(FINANCE),
    ("GET", "statement-sources"): Row(FINANCE),
    ("POST", "statement-sources/<uuid:source_id>/imports"): Row(
        FINANCE, body=lambda w, t: {"file": tenant_objects.statement_upload_file()}, multipart=True
    ),
    ("GET", "statement-imports/<uuid:import_id>"): Row(FINANCE),
    ("GET", "statement-imports/<uuid:import_id>/lines"): Row(FINANCE),
    ("POST", "statement-lines/<uuid:line_id>/match"): Row(
        FINANCE, body=lambda w, t: {"transaction": str(w.line_spend[t].id)}
    ),
    ("DELETE", "statement-lines/<uuid:line_id>/match"): Row(FINANCE),
    ("POST", "statement-lines/<uuid:line_id>/spend"): Row(
        FINANCE, body=lambda w, t: {"employee": str(t.employee.id), "category": "software"}
    ),
    ("GET", "webhooks/endpoints"): Row(ADMIN),
    ("POST", "webhooks/endpoints"): Row(
        ADMIN, body=lambda w, t: {"url": "http://127.0.0.1:9/hook", "event_types": ["transaction.posted"]}
    ),
    ("GET", "webhooks/endpoints/<uuid:endpoint_id>"): Row(ADMIN),
    ("PATCH", "webhooks/endpoints/<uuid:endpoint_id>"): Row(ADMIN, body=lambda w, t: {"description": "Matrix"}),
    ("DELETE", "webhooks/endpoints/<uuid:endpoint_id>"): Row(ADMIN),
    ("GET", "webhooks/endpoints/<uuid:endpoint_id>/deliveries"): Row(ADMIN),
    ("POST", "webhooks/deliveries/<uuid:delivery_id>/redeliver"): Row(ADMIN),
}

ROUTES = api_routes()


def test_every_api_route_has_a_row_and_every_row_a_route():
    assert sorted(MATRIX) == ROUTES, "add the new endpoint to MATRIX with the roles allowed to call it"


def _call(world: World, method: str, route: str, row: Row, role: str, tenant: Tenant):
    path = "/api/v1/" + route
    for name, value in world.path_ids(tenant, route, method).items():
        path = path.replace(f"<uuid:{name}>", value).replace(f"<int:{name}>", value).replace(f"<str:{name}>", value)
    assert "<" not in path, f"the matrix has no id for a parameter of {route}"
    client = client_for(world.user(role))
    headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if row.idempotent else {}
    if method == "GET":
        return client.get(path, row.query(world, tenant) if row.query else None, **headers)
    body = row.body(world, tenant) if row.body else None
    return getattr(client, method.lower())(path, body, format="multipart" if row.multipart else "json", **headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_route_answers_each_role_as_the_matrix_says(method, route):
    row = MATRIX.get((method, route))
    assert row is not None, f"{method} /api/v1/{route} is not in MATRIX"
    world = World()
    takes_ids = ("<" in route and row.path_names_tenant_objects) or row.names_tenant_objects
    unexpected = []
    for role in ROLES:
        own = _call(world, method, route, row, role, world.own)
        if role not in row.allowed:
            expected = 401 if role == ANONYMOUS else 403
            if own.status_code != expected:
                unexpected.append(f"{role} own tenant: {own.status_code}, expected {expected}")
        elif not 200 <= own.status_code < 300:
            unexpected.append(f"{role} own tenant: {own.status_code} {own.content[:200]!r}, expected 2xx")
        # A system admin belongs to no tenant; anyone may log in with another tenant's credentials.
        if not takes_ids or role == Role.SYSTEM_ADMIN or route == "auth/token":
            continue
        other = _call(world, method, route, row, role, world.other)
        passes_gate = role in (row.gate if row.gate is not None else row.allowed)
        expected_other = {401} if role == ANONYMOUS else {404} if passes_gate else {403}
        if other.status_code not in expected_other:
            unexpected.append(f"{role} other tenant's ids: {other.status_code}, expected {expected_other}")
    assert not unexpected, f"{method} /api/v1/{route}:\n" + "\n".join(unexpected)
