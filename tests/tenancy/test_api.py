"""The tenancy endpoints of api.md over HTTP: happy paths, the role matrix, other tenants' ids, bad input, auth."""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from rest_framework.test import APIClient

from apps.budgets.models import BudgetPeriod
from apps.spending import services as spending_services
from apps.system.demo import DEMO_PASSWORD, seed_demo
from apps.tenancy import selectors
from apps.tenancy.models import ApiToken, Department, Organization, Role, User
from ledgerx.months import month_start
from tests.factories import PASSWORD, DepartmentFactory, UserFactory, otp_fields
from tests.spends import period_now, spend_settled

EMPLOYEE, FINANCE, ADMIN, SYSTEM = Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN, Role.SYSTEM_ADMIN
ROLES = (EMPLOYEE, FINANCE, ADMIN, SYSTEM)
TENANT_ROLES = (EMPLOYEE, FINANCE, ADMIN)
USER_KEYS = {"id", "email", "role", "organization", "department", "frozen"}
BUDGET_KEYS = {"period", "limit", "spent", "held", "available", "currency"}
STRONG_PASSWORD = "a-long-enough-secret"


def actor(tenant, system_admin, role):
    return system_admin if role == SYSTEM else tenant.user(role)


def error_of(response, status: int, code: str | None = None) -> dict:
    """The api.md error shape, with this status; returns the inner error object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"], body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def this_month(organization) -> str:
    return f"{month_start(timezone.now(), organization.timezone):%Y-%m}"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{department}" and "{organization}" are the caller's tenant's ids
    allowed: tuple
    status: int
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def call(self, client: APIClient, tenant, department=None):
        ids = {
            "department": str((department or tenant.department).id),
            "organization": str(tenant.organization.id),
        }
        body = None if self.body is None else {k: v.format(**ids) for k, v in self.body.items()}
        return getattr(client, self.method.lower())(self.path.format(**ids), body, format="json")


ENDPOINTS = [
    Endpoint("GET", "/api/v1/me", ROLES, 200),
    Endpoint("DELETE", "/api/v1/auth/token/revoke", ROLES, 204),
    Endpoint("GET", "/api/v1/organizations", ROLES, 200),
    Endpoint("POST", "/api/v1/organizations", (SYSTEM,), 201, {"name": "Initech", "currency": "USD"}),
    Endpoint("GET", "/api/v1/users", (ADMIN, SYSTEM), 200),
    Endpoint(
        "POST",
        "/api/v1/users",
        (ADMIN, SYSTEM),
        201,
        {
            "email": "new@example.com",
            "password": STRONG_PASSWORD,
            "role": "finance_manager",
            "organization": "{organization}",
        },
    ),
    Endpoint("GET", "/api/v1/departments", TENANT_ROLES, 200),
    Endpoint("POST", "/api/v1/departments", (ADMIN,), 201, {"name": "Ops", "monthly_limit": "100.00"}),
    Endpoint("GET", "/api/v1/departments/{department}", TENANT_ROLES, 200),
    Endpoint("PATCH", "/api/v1/departments/{department}", (ADMIN,), 200, {"name": "R&D"}),
    Endpoint("GET", "/api/v1/departments/{department}/budget", TENANT_ROLES, 200),
]
# Setting a limit takes the organization's settlement lock, which must be taken outside any transaction.
PUT_BUDGET = Endpoint("PUT", "/api/v1/departments/{department}/budget", (FINANCE, ADMIN), 200, {"limit": "100.00"})


# The role matrix: each role is allowed (the endpoint's success status) or refused with 403.


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api, tenant, system_admin, endpoint, role):
    response = endpoint.call(api(actor(tenant, system_admin, role)), tenant)

    if role in endpoint.allowed:
        assert response.status_code == endpoint.status, response.content
    else:
        error_of(response, 403, "forbidden")


@pytest.mark.django_db(transaction=True)  # the settlement lock refuses to be taken inside the test's transaction
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_put_budget(api, tenant, system_admin, role):
    response = PUT_BUDGET.call(api(actor(tenant, system_admin, role)), tenant)

    if role in PUT_BUDGET.allowed:
        assert response.status_code == 200, response.content
        assert response.json()["limit"] == "100.00"
    else:
        error_of(response, 403, "forbidden")
        assert not BudgetPeriod.objects.filter(limit_set_at__isnull=False).exists()


# Authentication: no token, a bad one, a revoked one, an expired one -> 401.


def _revoked_key(user) -> str:
    client = APIClient()
    body = {"email": user.email, "password": PASSWORD, **otp_fields(user)}
    key = client.post("/api/v1/auth/token", body, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.delete("/api/v1/auth/token/revoke").status_code == 204
    return key


def _expired_key(user) -> str:
    client = APIClient()
    body = {"email": user.email, "password": PASSWORD, **otp_fields(user)}
    key = client.post("/api/v1/auth/token", body, format="json").json()["token"]
    ApiToken.objects.filter(key_hash=selectors.token_hash(key)).update(expires_at=timezone.now() - timedelta(seconds=1))
    return key


CREDENTIALS = {
    "none": lambda user: None,
    "unknown token": lambda user: "Token " + "x" * 43,
    "unknown bearer": lambda user: "Bearer not-a-token",
    "revoked token": lambda user: f"Token {_revoked_key(user)}",
    "expired token": lambda user: f"Bearer {_expired_key(user)}",
    "token without key": lambda user: "Token",
    "token with spaces": lambda user: "Token a b",
    "basic auth": lambda user: "Basic YWxpY2U6cGFzc3dvcmQ=",
}


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", CREDENTIALS)
@pytest.mark.parametrize("endpoint", [*ENDPOINTS, PUT_BUDGET], ids=str)
def test_missing_or_bad_credentials_answer_401(tenant, endpoint, credentials):
    client = APIClient()
    header = CREDENTIALS[credentials](tenant.admin)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    departments_before = sorted(Department.objects.values_list("id", "name", "parent_id"))

    response = endpoint.call(client, tenant)

    error_of(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Token")
    assert sorted(Department.objects.values_list("id", "name", "parent_id")) == departments_before
    assert not Organization.objects.filter(name="Initech").exists()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_a_deactivated_users_token_answers_401(api, tenant):
    client = api(tenant.employee)
    User.objects.filter(id=tenant.employee.id).update(is_active=False)

    error_of(client.get("/api/v1/me"), 401, "unauthenticated")


# Another organization's id: 404 with no data, never 403.


@dataclass(frozen=True)
class Trespass:
    role: str
    method: str
    path: str
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.role} {self.method} {self.path} {self.body or ''}"


# A move takes the organization's settlement lock, which must be taken outside any transaction.
MOVES = pytest.mark.django_db(transaction=True)


def with_database(method: str, body: dict | None, *values) -> object:
    """A test case with the database it needs: real commits for a department move."""
    moves = method == "PATCH" and "parent" in (body or {})
    return pytest.param(*values, marks=MOVES if moves else pytest.mark.django_db)


TRESPASSES = [
    *[Trespass(role, "GET", "/api/v1/departments/{theirs}") for role in TENANT_ROLES],
    *[Trespass(role, "GET", "/api/v1/departments/{theirs}/budget") for role in TENANT_ROLES],
    *[Trespass(role, "PUT", "/api/v1/departments/{theirs}/budget", {"limit": "1.00"}) for role in (FINANCE, ADMIN)],
    Trespass(ADMIN, "PATCH", "/api/v1/departments/{theirs}", {"name": "Hijacked"}),
    Trespass(ADMIN, "PATCH", "/api/v1/departments/{theirs}", {"parent": None}),
    Trespass(ADMIN, "PATCH", "/api/v1/departments/{ours}", {"parent": "{theirs}"}),
    Trespass(ADMIN, "POST", "/api/v1/departments", {"name": "Hijacked", "monthly_limit": "1.00", "parent": "{theirs}"}),
    Trespass(
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "spy@example.com", "password": STRONG_PASSWORD, "role": "employee", "department": "{theirs}"},
    ),
    Trespass(
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "spy@example.com", "password": STRONG_PASSWORD, "role": "org_admin", "organization": "{their_org}"},
    ),
    Trespass(
        SYSTEM,
        "POST",
        "/api/v1/users",
        {
            "email": "spy@example.com",
            "password": STRONG_PASSWORD,
            "role": "employee",
            "organization": "{our_org}",
            "department": "{theirs}",
        },
    ),
]


@pytest.mark.parametrize("trespass", [with_database(t.method, t.body, t) for t in TRESPASSES], ids=str)
def test_another_organizations_id_is_not_found(api, tenant, other_tenant, system_admin, trespass):
    ids = {
        "theirs": str(other_tenant.department.id),
        "ours": str(tenant.department.id),
        "their_org": str(other_tenant.organization.id),
        "our_org": str(tenant.organization.id),
    }
    body = trespass.body and {k: v.format(**ids) if isinstance(v, str) else v for k, v in trespass.body.items()}
    before = sorted(Department.objects.values_list("id", "name", "parent_id"))
    periods_before = sorted(BudgetPeriod.objects.values_list("id", "limit_minor"))

    response = getattr(api(actor(tenant, system_admin, trespass.role)), trespass.method.lower())(
        trespass.path.format(**ids), body, format="json"
    )

    error = error_of(response, 404, "not_found")
    assert "Engineering" not in json.dumps(error) and str(other_tenant.department.id) not in json.dumps(error)
    assert sorted(Department.objects.values_list("id", "name", "parent_id")) == before
    assert sorted(BudgetPeriod.objects.values_list("id", "limit_minor")) == periods_before
    assert not User.objects.filter(email="spy@example.com").exists()


@pytest.mark.django_db
def test_a_system_admin_naming_an_unknown_organization_gets_404(api, system_admin):
    response = api(system_admin).post(
        "/api/v1/users",
        {
            "email": "x@example.com",
            "password": STRONG_PASSWORD,
            "role": "finance_manager",
            "organization": str(uuid.uuid4()),
        },
        format="json",
    )
    error_of(response, 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/departments/{}", {"name": "Hijacked"}),
        ("PUT", "/api/v1/departments/{}/budget", {"limit": "1.00"}),
    ],
)
def test_a_refused_role_learns_nothing_from_the_id(api, tenant, other_tenant, method, path, body):
    client = api(tenant.employee)
    ours = getattr(client, method.lower())(path.format(tenant.department.id), body, format="json")
    theirs = getattr(client, method.lower())(path.format(other_tenant.department.id), body, format="json")
    unknown = getattr(client, method.lower())(path.format(uuid.uuid4()), body, format="json")

    assert error_of(ours, 403) == error_of(theirs, 403) == error_of(unknown, 403)


@pytest.mark.django_db
def test_an_employee_cannot_see_a_sibling_department_of_their_own_organization(api, tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    client = api(tenant.employee)

    error_of(client.get(f"/api/v1/departments/{sales.id}"), 404, "not_found")
    error_of(client.get(f"/api/v1/departments/{sales.id}/budget"), 404, "not_found")


@pytest.mark.django_db
def test_an_unknown_path_answers_404_in_the_error_shape(api, tenant):
    error_of(api(tenant.admin).get("/api/v1/departments/not-a-uuid"), 404, "not_found")


# Bad input: 400 in the api.md error shape, naming the field.


BAD_INPUT = [
    (None, "POST", "/api/v1/auth/token", {}, {"email", "password"}),
    (None, "POST", "/api/v1/auth/token", {"email": 5, "password": "x"}, {"email"}),
    (None, "POST", "/api/v1/auth/token", {"email": "a@example.com", "password": None}, {"password"}),
    (SYSTEM, "POST", "/api/v1/organizations", {"name": "Initech"}, {"currency"}),
    (SYSTEM, "POST", "/api/v1/organizations", {"name": "Initech", "currency": "XYZ"}, {"currency"}),
    (SYSTEM, "POST", "/api/v1/organizations", {"name": "", "currency": "USD"}, {"name"}),
    (SYSTEM, "POST", "/api/v1/organizations", {"name": 42, "currency": "USD"}, {"name"}),
    (
        SYSTEM,
        "POST",
        "/api/v1/organizations",
        {"name": "Initech", "currency": "USD", "timezone": "Mars/Base"},
        {"timezone"},
    ),
    (ADMIN, "POST", "/api/v1/users", {"email": "n@example.com", "password": STRONG_PASSWORD, "role": "king"}, {"role"}),
    (ADMIN, "POST", "/api/v1/users", {"email": "nope", "password": STRONG_PASSWORD, "role": "org_admin"}, {"email"}),
    (
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "n@example.com", "password": "short", "role": "org_admin"},
        {"password"},
    ),
    (
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "n@example.com", "password": "password123", "role": "org_admin"},
        {"password"},
    ),
    (
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "n@example.com", "password": STRONG_PASSWORD, "role": "employee"},
        {"department"},
    ),
    (
        ADMIN,
        "POST",
        "/api/v1/users",
        {"email": "n@example.com", "password": STRONG_PASSWORD, "role": "employee", "department": "x"},
        {"department"},
    ),
    (
        SYSTEM,
        "POST",
        "/api/v1/users",
        {"email": "n@example.com", "password": STRONG_PASSWORD, "role": "org_admin"},
        {"organization"},
    ),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops"}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "", "monthly_limit": "1.00"}, {"name"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Engineering", "monthly_limit": "1.00"}, {"name"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "-5.00"}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "1e3"}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "1.001"}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "NaN"}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": 100}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": 0.1}, {"monthly_limit"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "1.00", "currency": "EUR"}, {"currency"}),
    (ADMIN, "POST", "/api/v1/departments", {"name": "Ops", "monthly_limit": "1.00", "parent": "x"}, {"parent"}),
    (ADMIN, "PATCH", "/api/v1/departments/{department}", {"name": " "}, {"name"}),
    (ADMIN, "PATCH", "/api/v1/departments/{department}", {"name": None}, {"name"}),
    (ADMIN, "PATCH", "/api/v1/departments/{department}", {"parent": "{department}"}, {"parent"}),
    (ADMIN, "PATCH", "/api/v1/departments/{department}", {"parent": "x"}, {"parent"}),
    (EMPLOYEE, "GET", "/api/v1/departments/{department}/budget?period=2026-13", None, {"period"}),
    (EMPLOYEE, "GET", "/api/v1/departments/{department}/budget?period=last-month", None, {"period"}),
    (FINANCE, "PUT", "/api/v1/departments/{department}/budget", {}, {"limit"}),
    (FINANCE, "PUT", "/api/v1/departments/{department}/budget", {"limit": "-1.00"}, {"limit"}),
    (FINANCE, "PUT", "/api/v1/departments/{department}/budget", {"limit": 100}, {"limit"}),
    (FINANCE, "PUT", "/api/v1/departments/{department}/budget", {"limit": "1.001"}, {"limit"}),
    (FINANCE, "PUT", "/api/v1/departments/{department}/budget", {"limit": "1.00", "period": "2026-13"}, {"period"}),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "fields"),
    [with_database(case[1], case[3], *case) for case in BAD_INPUT],
    ids=lambda v: str(v)[:60],
)
def test_bad_input_answers_400_naming_the_field(api, tenant, system_admin, role, method, path, body, fields):
    client = APIClient() if role is None else api(actor(tenant, system_admin, role))
    department = str(tenant.department.id)
    if body is not None:
        body = {k: v.replace("{department}", department) if isinstance(v, str) else v for k, v in body.items()}
    departments_before = sorted(Department.objects.values_list("id", "name", "parent_id", "monthly_limit_minor"))
    users_before = User.objects.count()
    periods_before = sorted(BudgetPeriod.objects.values_list("id", "limit_minor", "spent_minor", "held_minor"))

    response = getattr(client, method.lower())(path.replace("{department}", department), body, format="json")

    error = error_of(response, 400)
    assert set(error["fields"]) == fields, error
    assert (
        sorted(Department.objects.values_list("id", "name", "parent_id", "monthly_limit_minor")) == departments_before
    )
    assert User.objects.count() == users_before
    assert sorted(BudgetPeriod.objects.values_list("id", "limit_minor", "spent_minor", "held_minor")) == periods_before
    assert not Organization.objects.filter(name="Initech").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/token", "/api/v1/organizations", "/api/v1/users", "/api/v1/departments"]
)
@pytest.mark.parametrize("raw", ['{"name": ', "[]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_answers_400(api, tenant, system_admin, path, raw):
    client = api(system_admin if path == "/api/v1/organizations" else tenant.admin)

    response = client.post(path, raw, content_type="application/json")

    error_of(response, 400)


@MOVES
def test_a_department_cannot_move_under_its_own_sub_department(api, tenant):
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    sre = DepartmentFactory(organization=tenant.organization, name="SRE", parent=platform)

    response = api(tenant.admin).patch(
        f"/api/v1/departments/{tenant.department.id}", {"parent": str(sre.id)}, format="json"
    )

    assert error_of(response, 400, "invalid")["fields"] == {"parent": ["Would create a cycle."]}
    assert Department.objects.get(id=tenant.department.id).parent_id is None


@pytest.mark.django_db(transaction=True)  # a move takes the settlement lock, outside any transaction
def test_a_department_with_spend_moves_with_its_budget_or_is_refused_with_409(api, tenant):
    small = DepartmentFactory(organization=tenant.organization, name="Small", monthly_limit_minor=500)
    large = DepartmentFactory(organization=tenant.organization, name="Large", monthly_limit_minor=5_000_000)
    spend_settled(tenant.employee, "10.00")
    client = api(tenant.admin)

    refused = client.patch(f"/api/v1/departments/{tenant.department.id}", {"parent": str(small.id)}, format="json")
    assert "'Small' budget exceeded" in error_of(refused, 409, "budget_exceeded")["message"]
    assert Department.objects.get(id=tenant.department.id).parent_id is None

    moved = client.patch(f"/api/v1/departments/{tenant.department.id}", {"parent": str(large.id)}, format="json")
    assert moved.status_code == 200 and moved.json()["parent"] == str(large.id)
    assert period_now(large).spent_minor == 1_000


# Happy paths


@pytest.mark.django_db
def test_login_returns_a_token_and_the_user_and_the_token_works_as_token_or_bearer(tenant):
    response = APIClient().post(
        "/api/v1/auth/token", {"email": tenant.employee.email.upper(), "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == {
        "id": str(tenant.employee.id),
        "email": tenant.employee.email,
        "role": "employee",
        "organization": str(tenant.organization.id),
        "department": str(tenant.department.id),
        "frozen": None,
    }
    for keyword in ("Token", "Bearer", "bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {body['token']}")
        assert client.get("/api/v1/me").json() == body["user"]


@pytest.mark.django_db
def test_the_login_error_never_tells_which_part_was_wrong(tenant):
    tenant.other_employee.is_active = False
    tenant.other_employee.save()
    attempts = [
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": tenant.employee.email, "password": "wrong-password"},
        {"email": tenant.other_employee.email, "password": PASSWORD},
    ]

    responses = [APIClient().post("/api/v1/auth/token", attempt, format="json") for attempt in attempts]

    errors = [error_of(response, 401, "unauthenticated") for response in responses]
    assert errors[0] == errors[1] == errors[2]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_revoking_a_token_ends_it_and_only_it(api, tenant):
    revoked, kept = api(tenant.finance), api(tenant.finance)

    assert revoked.delete("/api/v1/auth/token/revoke").status_code == 204

    error_of(revoked.get("/api/v1/me"), 401, "unauthenticated")
    error_of(revoked.delete("/api/v1/auth/token/revoke"), 401, "unauthenticated")
    assert kept.get("/api/v1/me").status_code == 200


@pytest.mark.django_db(transaction=True)  # the cache is cleared when the change commits
def test_a_role_taken_away_counts_at_the_next_request_of_a_cached_token(api, tenant):
    from apps.tenancy.services import user_set_role

    client = api(tenant.finance)
    assert client.get("/api/v1/fraud/alerts").status_code == 200  # the token's owner is now cached
    tenant.finance.department = tenant.department
    tenant.finance.save(update_fields=["department"])
    user_set_role(actor=tenant.admin, user=tenant.finance, role=Role.EMPLOYEE)

    error_of(client.get("/api/v1/fraud/alerts"), 403)
    assert client.get("/api/v1/me").json()["role"] == Role.EMPLOYEE


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_account_is_refused_at_the_next_request_of_a_cached_token(api, tenant):
    client = api(tenant.finance)
    assert client.get("/api/v1/me").status_code == 200
    tenant.finance.is_active = False
    tenant.finance.save(update_fields=["is_active"])  # as the back office does

    error_of(client.get("/api/v1/me"), 401, "unauthenticated")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_me_is_the_callers_user_object(api, tenant, system_admin, role):
    user = actor(tenant, system_admin, role)

    body = api(user).get("/api/v1/me").json()

    assert set(body) == USER_KEYS
    assert (body["id"], body["email"], body["role"]) == (str(user.id), user.email, role)
    assert body["organization"] == (str(user.organization_id) if user.organization_id else None)


@pytest.mark.django_db
def test_organizations_a_tenant_user_sees_only_their_own_a_system_admin_all(api, tenant, other_tenant, system_admin):
    for role in TENANT_ROLES:
        results = api(tenant.user(role)).get("/api/v1/organizations").json()["results"]
        assert [o["id"] for o in results] == [str(tenant.organization.id)]
    results = api(system_admin).get("/api/v1/organizations").json()["results"]
    assert {o["name"] for o in results} == {"Acme", "Globex"}


@pytest.mark.django_db
def test_a_system_admin_creates_an_organization(api, system_admin):
    response = api(system_admin).post(
        "/api/v1/organizations", {"name": "Initech", "currency": "EUR", "timezone": "Europe/Berlin"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    organization = Organization.objects.get(id=body["id"])
    assert body == {
        "id": str(organization.id),
        "name": "Initech",
        "slug": "initech",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
    }
    assert (
        api(system_admin)
        .post("/api/v1/organizations", {"name": "Initech 2", "currency": "JPY"}, format="json")
        .json()["timezone"]
        == "UTC"
    )


@pytest.mark.django_db
def test_users_an_org_admin_sees_their_organizations_a_system_admin_everyones(api, tenant, other_tenant, system_admin):
    ours = {u.email for u in (tenant.employee, tenant.other_employee, tenant.finance, tenant.admin)}
    theirs = {
        u.email for u in (other_tenant.employee, other_tenant.other_employee, other_tenant.finance, other_tenant.admin)
    }

    admin_sees = api(tenant.admin).get("/api/v1/users").json()["results"]
    system_admin_sees = api(system_admin).get("/api/v1/users").json()["results"]

    assert {u["email"] for u in admin_sees} == ours
    assert all(set(u) == USER_KEYS for u in admin_sees)
    assert {u["email"] for u in system_admin_sees} == ours | theirs | {system_admin.email}


@pytest.mark.django_db
def test_an_org_admin_creates_a_user_who_can_then_log_in(api, tenant):
    response = api(tenant.admin).post(
        "/api/v1/users",
        {
            "email": "New.Hire@Example.com",
            "password": STRONG_PASSWORD,
            "role": "employee",
            "department": str(tenant.department.id),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    created = User.objects.get(email="new.hire@example.com")
    assert response.json() == {
        "id": str(created.id),
        "email": "new.hire@example.com",
        "role": "employee",
        "organization": str(tenant.organization.id),
        "department": str(tenant.department.id),
        "frozen": None,
    }
    assert created.password != STRONG_PASSWORD and check_password(STRONG_PASSWORD, created.password)
    login = APIClient().post(
        "/api/v1/auth/token", {"email": "new.hire@example.com", "password": STRONG_PASSWORD}, format="json"
    )
    assert login.status_code == 200 and login.json()["user"]["id"] == str(created.id)


@pytest.mark.django_db
def test_a_system_admin_creates_users_in_any_organization(api, other_tenant, system_admin):
    response = api(system_admin).post(
        "/api/v1/users",
        {
            "email": "cfo@globex.example",
            "password": STRONG_PASSWORD,
            "role": "finance_manager",
            "organization": str(other_tenant.organization.id),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["organization"] == str(other_tenant.organization.id)


@pytest.mark.django_db
def test_an_org_admin_cannot_create_a_system_admin(api, tenant):
    response = api(tenant.admin).post(
        "/api/v1/users",
        {"email": "root2@example.com", "password": STRONG_PASSWORD, "role": "system_admin"},
        format="json",
    )

    error_of(response, 403, "forbidden")
    assert not User.objects.filter(email="root2@example.com").exists()


@pytest.mark.django_db
def test_a_duplicate_email_answers_400(api, tenant):
    response = api(tenant.admin).post(
        "/api/v1/users",
        {"email": tenant.finance.email, "password": STRONG_PASSWORD, "role": "finance_manager"},
        format="json",
    )

    assert error_of(response, 400, "invalid")["fields"] == {"email": ["Already in use."]}


@pytest.mark.django_db
def test_departments_list_with_this_months_budget_employees_see_their_lineage(api, tenant, other_tenant):
    platform = DepartmentFactory(
        organization=tenant.organization, name="Platform", parent=tenant.department, monthly_limit_minor=150_000
    )
    DepartmentFactory(organization=tenant.organization, name="Sales")
    platform_employee = UserFactory(role=Role.EMPLOYEE, department=platform)

    finance_sees = api(tenant.finance).get("/api/v1/departments").json()
    employee_sees = api(platform_employee).get("/api/v1/departments").json()

    assert [d["name"] for d in finance_sees] == ["Engineering", "Platform", "Sales"]
    assert [d["name"] for d in employee_sees] == ["Engineering", "Platform"]
    by_name = {d["name"]: d for d in finance_sees}
    assert by_name["Platform"] == {
        "id": str(platform.id),
        "name": "Platform",
        "parent": str(tenant.department.id),
        "head": None,
        "monthly_limit": "1500.00",
        "budget": {
            "period": this_month(tenant.organization),
            "limit": "1500.00",
            "spent": "0.00",
            "held": "0.00",
            "available": "1500.00",
            "currency": "USD",
        },
    }
    assert by_name["Engineering"]["budget"]["limit"] == "50000.00"


@pytest.mark.django_db
def test_an_org_admin_creates_a_department_under_a_parent(api, tenant):
    response = api(tenant.admin).post(
        "/api/v1/departments",
        {"name": "Platform", "parent": str(tenant.department.id), "monthly_limit": "1500.5", "currency": "USD"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    department = Department.objects.of(tenant.organization).get(id=body["id"])
    assert (department.name, department.parent_id, department.monthly_limit_minor) == (
        "Platform",
        tenant.department.id,
        150_050,
    )
    assert body["parent"] == str(tenant.department.id)
    assert body["budget"] == {
        "period": this_month(tenant.organization),
        "limit": "1500.50",
        "spent": "0.00",
        "held": "0.00",
        "available": "1500.50",
        "currency": "USD",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", TENANT_ROLES)
def test_department_detail(api, tenant, role):
    body = api(tenant.user(role)).get(f"/api/v1/departments/{tenant.department.id}").json()

    assert (body["id"], body["name"], body["parent"]) == (str(tenant.department.id), "Engineering", None)
    assert set(body["budget"]) == BUDGET_KEYS


@MOVES
def test_an_org_admin_renames_and_moves_a_department(api, tenant):
    holding = DepartmentFactory(organization=tenant.organization, name="Holding")
    client = api(tenant.admin)
    path = f"/api/v1/departments/{tenant.department.id}"

    moved = client.patch(path, {"name": "R&D", "parent": str(holding.id)}, format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["name"], moved.json()["parent"]) == ("R&D", str(holding.id))

    renamed = client.patch(path, {"name": "Research"}, format="json")
    assert (renamed.json()["name"], renamed.json()["parent"]) == ("Research", str(holding.id))

    to_root = client.patch(path, {"parent": None}, format="json")
    assert to_root.json()["parent"] is None
    department = Department.objects.get(id=tenant.department.id)
    assert (department.name, department.parent_id) == ("Research", None)


@pytest.mark.django_db
def test_a_budget_of_a_named_period_shows_the_standing_limit_until_opened(api, tenant):
    client = api(tenant.employee)

    current = client.get(f"/api/v1/departments/{tenant.department.id}/budget").json()
    past = client.get(f"/api/v1/departments/{tenant.department.id}/budget?period=2025-01").json()

    assert current == {
        "period": this_month(tenant.organization),
        "limit": "50000.00",
        "spent": "0.00",
        "held": "0.00",
        "available": "50000.00",
        "currency": "USD",
    }
    assert past["period"] == "2025-01" and past["limit"] == "50000.00"


@pytest.mark.django_db(transaction=True)  # the settlement lock and the settlement itself need real commits
def test_a_limit_below_what_is_spent_is_allowed_and_says_so(api, tenant):
    spend = api(tenant.employee).post(
        "/api/v1/transactions",
        {"amount": "60.00", "currency": "USD", "merchant": "Dell", "category": "equipment"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="spend-1",
    )
    assert spend.status_code == 202, spend.content
    spending_services.settlement_run(organization_id=tenant.organization.id)
    client = api(tenant.finance)
    path = f"/api/v1/departments/{tenant.department.id}/budget"

    raised = client.put(path, {"limit": "100.00"}, format="json")
    lowered = client.put(path, {"limit": "10.00"}, format="json")

    assert raised.status_code == 200, raised.content
    assert raised.json()["notice"] == ""
    assert lowered.status_code == 200, lowered.content
    assert lowered.json() == {
        "period": this_month(tenant.organization),
        "limit": "10.00",
        "spent": "60.00",
        "held": "0.00",
        "available": "0.00",
        "currency": "USD",
        "notice": "The new limit is below what is already spent and held: nothing more posts this period, "
        "and spends awaiting approval there cannot be approved until the limit is raised.",
    }
    assert client.get(path).json()["limit"] == "10.00"


@pytest.mark.django_db(transaction=True)  # the settlement lock refuses to be taken inside the test's transaction
def test_an_org_admin_sets_the_limit_of_a_named_period(api, tenant):
    client = api(tenant.admin)
    path = f"/api/v1/departments/{tenant.department.id}/budget"

    response = client.put(path, {"limit": "0", "period": "2099-01"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["period"], response.json()["limit"]) == ("2099-01", "0.00")
    assert client.get(f"{path}?period=2099-01").json()["limit"] == "0.00"
    assert client.get(path).json()["limit"] == "50000.00"


@pytest.mark.django_db
def test_the_demo_users_log_in_with_the_demo_password():
    seed_demo(history=False)

    response = APIClient().post(
        "/api/v1/auth/token", {"email": "alice@techcorp.com", "password": DEMO_PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content
    engineering = Department.objects.get(name="Engineering", organization__name="TechCorp")
    assert response.json()["user"]["department"] == str(engineering.id)
