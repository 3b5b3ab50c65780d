"""The business rules of apps/tenancy, tested where they live: services and selectors."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.ledger.models import Account
from apps.spending import services as spending_services
from apps.spending.selectors import transactions_visible
from apps.tenancy import selectors, services
from apps.tenancy.models import ApiToken, Department, Organization, Role, User
from ledgerx.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from tests.conftest import run_in_threads
from tests.factories import PASSWORD, DepartmentFactory, OrganizationFactory, UserFactory


def _spend(user, key: str = "spend-1", amount: str = "60.00", department_id=None):
    spend, _ = spending_services.transaction_submit(
        user=user,
        idempotency_key=key,
        amount=amount,
        currency="USD",
        merchant="Dell",
        category="equipment",
        department_id=department_id,
    )
    return spend


def _parent_id(department) -> object:
    return Department.objects.values_list("parent_id", flat=True).get(id=department.id)


# Organizations


@pytest.mark.django_db
def test_organization_create_opens_its_card_funding_account_and_gets_a_unique_slug():
    first = services.organization_create(name="  Acme  ", currency="EUR", timezone_name="Europe/Paris")
    second = services.organization_create(name="Acme", currency="USD")

    assert (first.name, first.currency, first.timezone) == ("Acme", "EUR", "Europe/Paris")
    assert second.timezone == "UTC"
    assert first.slug == "acme" and second.slug.startswith("acme-") and second.slug != first.slug
    for organization in (first, second):
        account = Account.objects.of(organization).get()
        assert (account.kind, account.currency) == (Account.Kind.CARD_FUNDING, organization.currency)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "currency", "timezone_name", "field"),
    [
        ("   ", "USD", "UTC", "name"),
        ("Acme", "XYZ", "UTC", "currency"),
        ("Acme", "usd", "UTC", "currency"),
        ("Acme", "USD", "Mars/Olympus", "timezone"),
        ("Acme", "USD", "../etc/passwd", "timezone"),
    ],
)
def test_organization_create_refuses_bad_input(name, currency, timezone_name, field):
    with pytest.raises(InvalidInput) as refused:
        services.organization_create(name=name, currency=currency, timezone_name=timezone_name)
    assert field in refused.value.fields
    assert not Organization.objects.exists()


# The department tree


@pytest.mark.django_db
def test_department_create_opens_an_expense_account_under_its_parent(tenant):
    platform = services.department_create(
        actor=None,
        organization=tenant.organization,
        name=" Platform ",
        monthly_limit_minor=150_000,
        parent_id=tenant.department.id,
    )

    assert (platform.name, platform.parent_id, platform.monthly_limit_minor) == (
        "Platform",
        tenant.department.id,
        150_000,
    )
    assert Account.objects.get(department=platform).kind == Account.Kind.EXPENSE


@pytest.mark.django_db
def test_department_name_is_unique_among_siblings_only(tenant):
    organization = tenant.organization
    platform = DepartmentFactory(organization=organization, name="Platform", parent=tenant.department)
    sales = DepartmentFactory(organization=organization, name="Sales")

    with pytest.raises(InvalidInput) as same_parent:
        services.department_create(
            actor=None,
            organization=organization,
            name="Platform ",
            monthly_limit_minor=1,
            parent_id=tenant.department.id,
        )
    assert same_parent.value.fields == {"name": ["Must be unique among siblings."]}
    with pytest.raises(InvalidInput):
        services.department_create(
            actor=None, organization=organization, name="Sales", monthly_limit_minor=1
        )  # two roots

    elsewhere = services.department_create(
        actor=None, organization=organization, name="Platform", monthly_limit_minor=1, parent_id=sales.id
    )
    assert elsewhere.id != platform.id
    other_organization = OrganizationFactory()
    assert services.department_create(actor=None, organization=other_organization, name="Sales", monthly_limit_minor=1)


@pytest.mark.django_db
def test_department_rename_or_move_onto_a_siblings_name_is_refused(tenant):
    organization = tenant.organization
    sales = DepartmentFactory(organization=organization, name="Sales")
    platform = DepartmentFactory(organization=organization, name="Sales", parent=tenant.department)

    with pytest.raises(InvalidInput) as renamed:
        services.department_update(actor=None, department=Department.objects.get(id=tenant.department.id), name="Sales")
    assert "name" in renamed.value.fields
    with pytest.raises(InvalidInput):
        services.department_update(
            actor=None, department=Department.objects.get(id=platform.id), parent_id=None, move=True
        )

    assert Department.objects.get(id=tenant.department.id).name == "Engineering"
    assert _parent_id(platform) == tenant.department.id
    assert _parent_id(sales) is None


@pytest.mark.django_db
def test_department_refuses_a_blank_name(tenant):
    with pytest.raises(InvalidInput):
        services.department_create(actor=None, organization=tenant.organization, name="  ", monthly_limit_minor=1)
    with pytest.raises(InvalidInput):
        services.department_update(actor=None, department=tenant.department, name=" ")
    assert Department.objects.get(id=tenant.department.id).name == "Engineering"


@pytest.mark.django_db
def test_a_parent_from_another_organization_does_not_exist(tenant, other_tenant):
    with pytest.raises(NotFound):
        services.department_create(
            actor=None,
            organization=tenant.organization,
            name="Platform",
            monthly_limit_minor=1,
            parent_id=other_tenant.department.id,
        )
    with pytest.raises(NotFound):
        services.department_update(
            actor=None, department=tenant.department, parent_id=other_tenant.department.id, move=True
        )

    assert not Department.objects.of(tenant.organization).filter(name="Platform").exists()
    assert _parent_id(tenant.department) is None


@pytest.mark.django_db
def test_a_department_cannot_become_its_own_ancestor(tenant):
    root = tenant.department
    child = DepartmentFactory(organization=tenant.organization, name="Platform", parent=root)
    grandchild = DepartmentFactory(organization=tenant.organization, name="SRE", parent=child)

    for new_parent in (root, child, grandchild):
        with pytest.raises(InvalidInput) as refused:
            services.department_update(
                actor=None, department=Department.objects.get(id=root.id), parent_id=new_parent.id, move=True
            )
        assert refused.value.fields == {"parent": ["Would create a cycle."]}
    assert _parent_id(root) is None

    moved = services.department_update(
        actor=None, department=Department.objects.get(id=grandchild.id), parent_id=root.id, move=True
    )
    assert moved.parent_id == root.id
    assert services.department_update(actor=None, department=moved, parent_id=None, move=True).parent_id is None
    assert selectors.department_lineage_ids(department_id=grandchild.id) == [grandchild.id]


@pytest.mark.django_db(transaction=True)  # each contender commits on its own connection
def test_concurrent_creates_of_one_name_leave_one_department(tenant):
    def create(index: int):
        try:
            return services.department_create(
                actor=None, organization=tenant.organization, name="Ops", monthly_limit_minor=100
            )
        except InvalidInput as error:
            return error

    results = run_in_threads(2, create)

    assert sorted(type(result).__name__ for result in results) == ["Department", "InvalidInput"]
    assert Department.objects.of(tenant.organization).filter(name="Ops").count() == 1


def _waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone() is not None


@pytest.mark.django_db(transaction=True)  # the two moves must each commit on their own connection
def test_concurrent_moves_cannot_make_a_cycle(tenant):
    """With B under A: A under C, and C under B, at once. Each alone is fine; together they make a loop."""
    a = DepartmentFactory(organization=tenant.organization, name="A")
    b = DepartmentFactory(organization=tenant.organization, name="B", parent=a)
    c = DepartmentFactory(organization=tenant.organization, name="C")
    first_moved, release_first, second_connected = threading.Event(), threading.Event(), threading.Event()
    outcome: dict = {}

    def move_a_under_c() -> None:
        try:
            with transaction.atomic():
                services.department_update(
                    actor=None, department=Department.objects.get(id=a.id), parent_id=c.id, move=True
                )
                first_moved.set()
                release_first.wait(timeout=60)
            outcome["first"] = "moved"
        except InvalidInput as error:
            outcome["first"] = error
        finally:
            first_moved.set()
            connections.close_all()

    def move_c_under_b() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["second_pid"] = cursor.fetchone()[0]
            second_connected.set()
            services.department_update(
                actor=None, department=Department.objects.get(id=c.id), parent_id=b.id, move=True
            )
            outcome["second"] = "moved"
        except InvalidInput as error:
            outcome["second"] = error
        finally:
            second_connected.set()
            connections.close_all()

    first = threading.Thread(target=move_a_under_c)
    second = threading.Thread(target=move_c_under_b)
    first.start()
    assert first_moved.wait(timeout=60)
    second.start()
    assert second_connected.wait(timeout=60)
    # Let the second move run until it finishes or blocks behind the first; then the first commits.
    deadline = time.monotonic() + 60
    while second.is_alive() and not _waits_on_a_lock(outcome["second_pid"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    release_first.set()
    first.join()
    second.join()

    assert outcome["first"] == "moved"
    assert isinstance(outcome["second"], InvalidInput), outcome["second"]
    assert (_parent_id(a), _parent_id(b), _parent_id(c)) == (c.id, a.id, None)


# Visibility


@pytest.mark.django_db
def test_employees_see_their_department_and_its_ancestors_finance_and_admins_see_all(tenant, other_tenant):
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    sre = DepartmentFactory(organization=tenant.organization, name="SRE", parent=platform)
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    platform_employee = UserFactory(role=Role.EMPLOYEE, department=platform)
    every = {tenant.department.id, platform.id, sre.id, sales.id}

    assert {d.id for d in selectors.department_list_visible(user=platform_employee)} == {
        platform.id,
        tenant.department.id,
    }
    assert {d.id for d in selectors.department_list_visible(user=tenant.employee)} == {tenant.department.id}
    assert {d.id for d in selectors.department_list_visible(user=tenant.finance)} == every
    assert {d.id for d in selectors.department_list_visible(user=tenant.admin)} == every
    assert {d.id for d in selectors.department_list_visible(user=other_tenant.admin)} == {other_tenant.department.id}


@pytest.mark.django_db
def test_organizations_visible_to_a_tenant_user_are_their_own_and_to_a_system_admin_all(
    tenant, other_tenant, system_admin
):
    for user in (tenant.employee, tenant.finance, tenant.admin):
        assert list(selectors.organization_list_visible(user=user)) == [tenant.organization]
    assert set(selectors.organization_list_visible(user=system_admin)) == {
        tenant.organization,
        other_tenant.organization,
    }


# Users


@pytest.mark.django_db
def test_an_org_admin_creates_a_user_in_their_own_organization_with_a_django_hashed_password(tenant):
    user = services.user_create(
        actor=tenant.admin,
        email="  New.Hire@Example.COM ",
        password="a-long-enough-secret",
        role=Role.EMPLOYEE,
        organization=None,
        department_id=tenant.department.id,
    )

    user.refresh_from_db()
    assert (user.email, user.role, user.organization_id, user.department_id) == (
        "new.hire@example.com",
        Role.EMPLOYEE,
        tenant.organization.id,
        tenant.department.id,
    )
    assert "a-long-enough-secret" not in user.password
    assert f"django.contrib.auth.hashers.{type(identify_hasher(user.password)).__name__}" in settings.PASSWORD_HASHERS
    assert check_password("a-long-enough-secret", user.password)
    assert not user.is_superuser


@pytest.mark.django_db
def test_a_system_admin_creates_users_in_any_organization_and_other_system_admins(tenant, other_tenant, system_admin):
    finance = services.user_create(
        actor=system_admin,
        email="cfo@globex.example",
        password="a-long-enough-secret",
        role=Role.FINANCE_MANAGER,
        organization=other_tenant.organization,
    )
    root = services.user_create(
        actor=system_admin,
        email="root2@example.com",
        password="a-long-enough-secret",
        role=Role.SYSTEM_ADMIN,
        organization=tenant.organization,
    )

    assert (finance.organization_id, finance.department_id) == (other_tenant.organization.id, None)
    assert (root.organization_id, root.is_superuser) == (None, True)


@pytest.mark.django_db
def test_only_a_system_admin_creates_system_admins(tenant):
    with pytest.raises(Forbidden):
        services.user_create(
            actor=tenant.admin,
            email="x@example.com",
            password="a-long-enough-secret",
            role=Role.SYSTEM_ADMIN,
            organization=None,
        )
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
def test_an_org_admin_cannot_create_a_user_in_another_organization(tenant, other_tenant):
    with pytest.raises(NotFound):
        services.user_create(
            actor=tenant.admin,
            email="x@example.com",
            password="a-long-enough-secret",
            role=Role.FINANCE_MANAGER,
            organization=other_tenant.organization,
        )
    with pytest.raises(NotFound):
        services.user_create(
            actor=tenant.admin,
            email="x@example.com",
            password="a-long-enough-secret",
            role=Role.EMPLOYEE,
            organization=None,
            department_id=other_tenant.department.id,
        )
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": "superhero"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"email": " "}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"department_id": None}, "department"),
    ],
)
def test_user_create_refuses_bad_input(tenant, changes, field):
    arguments = {
        "actor": tenant.admin,
        "email": "x@example.com",
        "password": "a-long-enough-secret",
        "role": Role.EMPLOYEE,
        "organization": None,
        "department_id": tenant.department.id,
        **changes,
    }
    with pytest.raises(InvalidInput) as refused:
        services.user_create(**arguments)
    assert field in refused.value.fields
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
def test_user_create_refuses_an_email_in_use_in_any_case(tenant):
    with pytest.raises(InvalidInput) as refused:
        services.user_create(
            actor=tenant.admin,
            email=tenant.finance.email.upper(),
            password="a-long-enough-secret",
            role=Role.FINANCE_MANAGER,
            organization=None,
        )
    assert refused.value.fields == {"email": ["Already in use."]}


@pytest.mark.django_db
def test_a_system_admin_must_name_the_organization_of_a_tenant_user(system_admin):
    with pytest.raises(InvalidInput) as refused:
        services.user_create(
            actor=system_admin,
            email="x@example.com",
            password="a-long-enough-secret",
            role=Role.FINANCE_MANAGER,
            organization=None,
        )
    assert "organization" in refused.value.fields


# API tokens


@pytest.mark.django_db
def test_token_issue_stores_only_a_hash_and_expires_after_the_ttl(tenant):
    before = timezone.now()
    key, user = services.token_issue(
        email=f"  {tenant.employee.email.upper()} ", password=PASSWORD, client_ip="127.0.0.1"
    )
    after = timezone.now()

    token = ApiToken.objects.get(user=tenant.employee)
    assert user == tenant.employee
    assert token.key_hash == selectors.token_hash(key) != key
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert before + settings.API_TOKEN_TTL <= token.expires_at <= after + settings.API_TOKEN_TTL
    assert selectors.user_for_token(key=key) == tenant.employee


@pytest.mark.django_db
def test_token_issue_gives_one_answer_for_every_kind_of_bad_credentials(tenant):
    tenant.other_employee.is_active = False
    tenant.other_employee.save()
    attempts = [
        ("nobody@example.com", PASSWORD),
        (tenant.employee.email, "wrong-password"),
        (tenant.employee.email, ""),
        (tenant.other_employee.email, PASSWORD),
    ]
    messages = set()
    for email, password in attempts:
        with pytest.raises(Unauthenticated) as refused:
            services.token_issue(email=email, password=password, client_ip="127.0.0.1")
        messages.add((refused.value.message, tuple(refused.value.fields)))
    assert messages == {("Invalid email or password.", ())}
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_revoke_ends_only_that_token(tenant):
    revoked_key, _ = services.token_issue(email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1")
    kept_key, _ = services.token_issue(email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1")

    services.token_revoke(key=revoked_key)
    revoked_at = ApiToken.objects.get(key_hash=selectors.token_hash(revoked_key)).revoked_at
    services.token_revoke(key=revoked_key)

    assert selectors.user_for_token(key=revoked_key) is None
    assert selectors.user_for_token(key=kept_key) == tenant.employee
    assert revoked_at is not None
    assert ApiToken.objects.get(key_hash=selectors.token_hash(revoked_key)).revoked_at == revoked_at


@pytest.mark.django_db
def test_an_expired_token_or_a_deactivated_user_ends_the_token(tenant):
    expired_key, _ = services.token_issue(email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1")
    ApiToken.objects.filter(key_hash=selectors.token_hash(expired_key)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    deactivated_key, _ = services.token_issue(
        email=tenant.other_employee.email, password=PASSWORD, client_ip="127.0.0.1"
    )
    User.objects.filter(id=tenant.other_employee.id).update(is_active=False)

    assert selectors.user_for_token(key=expired_key) is None
    assert selectors.user_for_token(key=deactivated_key) is None
    assert selectors.user_for_token(key="never-issued") is None


# Department heads (guardian object permissions)


@pytest.mark.django_db
def test_a_department_head_sees_that_departments_spend(tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    head = UserFactory(role=Role.EMPLOYEE, department=sales)
    engineering_spend = _spend(tenant.employee)
    own_spend = _spend(head, key="head-own")
    assert list(transactions_visible(user=head)) == [own_spend]

    department = services.department_set_head(actor=None, department=tenant.department, head=head)

    assert Department.objects.get(id=tenant.department.id).head_id == head.id == department.head_id
    assert set(transactions_visible(user=head)) == {engineering_spend, own_spend}
    assert list(transactions_visible(user=tenant.other_employee)) == []


@pytest.mark.django_db
def test_a_replaced_department_head_no_longer_sees_its_spend(tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    first_head = UserFactory(role=Role.EMPLOYEE, department=sales)
    second_head = UserFactory(role=Role.EMPLOYEE, department=sales)
    spend = _spend(tenant.employee)

    services.department_set_head(actor=None, department=tenant.department, head=first_head)
    services.department_set_head(actor=None, department=tenant.department, head=second_head)

    assert list(transactions_visible(user=first_head)) == []
    assert list(transactions_visible(user=second_head)) == [spend]


@pytest.mark.django_db
def test_a_head_from_another_organization_is_not_found(tenant, other_tenant):
    spend = _spend(tenant.employee)

    with pytest.raises(NotFound):
        services.department_set_head(actor=None, department=tenant.department, head=other_tenant.employee)

    assert Department.objects.get(id=tenant.department.id).head_id is None
    assert spend not in transactions_visible(user=other_tenant.employee)
    assert list(transactions_visible(user=other_tenant.employee)) == []
