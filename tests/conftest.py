import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from apps.tenancy import mfa, token_cache
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from ledgerx import ratelimit
from ledgerx.celery import app as celery_app
from tests.factories import PASSWORD, DepartmentFactory, OrganizationFactory, UserFactory, recovery_code_for


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with this run's Redis database empty (REDIS_URL picks a database per run),
    and with no token answers or rate-limit leases kept in this process."""
    get_redis_connection("default").flushdb()
    token_cache.clear()
    ratelimit.forget_leases()
    yield


@pytest.fixture(autouse=True)
def receipts_storage(settings, tmp_path):
    """Receipts go to a folder of the test's own (a FileSystemStorage), never the checkout's var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "receipts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "receipts"), "base_url": None},
        },
    }
    return tmp_path / "receipts"


class Tenant:
    """One organization with a department and a user of every role."""

    def __init__(self, name: str, limit_minor: int = 5_000_000) -> None:
        self.organization = OrganizationFactory(name=name)
        self.department = DepartmentFactory(
            organization=self.organization, name="Engineering", monthly_limit_minor=limit_minor
        )
        self.employee = UserFactory(role=Role.EMPLOYEE, department=self.department)
        self.other_employee = UserFactory(role=Role.EMPLOYEE, department=self.department)
        self.finance = UserFactory(role=Role.FINANCE_MANAGER, organization=self.organization)
        self.admin = UserFactory(role=Role.ORG_ADMIN, organization=self.organization)

    def user(self, role: str):
        return {
            Role.EMPLOYEE: self.employee,
            Role.FINANCE_MANAGER: self.finance,
            Role.ORG_ADMIN: self.admin,
        }[role]


@pytest.fixture
def tenant(db):
    return Tenant("Acme")


@pytest.fixture
def other_tenant(db):
    return Tenant("Globex")


@pytest.fixture
def system_admin(db):
    return UserFactory(role=Role.SYSTEM_ADMIN, email="root@example.com")


def client_for(user) -> APIClient:
    """An API client holding a real token, obtained through the login endpoint's service: with a second
    factor (a recovery code, good once whatever the clock) where the user's role must have one."""
    client = APIClient()
    if user is not None:
        otp_code = recovery_code_for(user) if mfa.mfa_required(user) else None
        key, _ = tenancy_services.token_issue(
            email=user.email, password=PASSWORD, client_ip="127.0.0.1", otp_code=otp_code
        )
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api():
    return client_for


@pytest.fixture
def settlement_worker(transactional_db):
    """A real Celery worker thread consuming the real Redis broker, as production does."""
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        queues=["settlement", "default"],
        shutdown_timeout=30,
    ) as worker:
        yield worker
    connections.close_all()


def run_in_threads(count: int, target, *args) -> list:
    """Start `count` threads that wait at one barrier, then call target(index, *args) together.

    Each thread has its own database connection, so they really collide in PostgreSQL.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index, *args)
        except Exception as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
