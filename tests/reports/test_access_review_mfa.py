"""The access review's MFA column: the second factors each user had at the period's end, from the audit log."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.reports import selectors
from apps.reports.periods import period_parse
from apps.tenancy import mfa_services
from tests.conftest import Tenant
from tests.factories import totp_device_for

from .test_reports import as_dicts


def _mfa_column(tenant: Tenant, month: str) -> dict[str, str]:
    period = period_parse(organization=tenant.organization, month=month)
    return {
        row["email"]: row["MFA"]
        for row in as_dicts(selectors.access_review(organization=tenant.organization, period=period))
    }


@pytest.mark.django_db
def test_the_access_review_shows_each_users_second_factors_as_they_stood_at_the_period_end():
    with time_machine.travel(datetime(2025, 3, 2, 9, 0, tzinfo=UTC), tick=True):
        tenant = Tenant("Acme")
    with time_machine.travel(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), tick=True):
        totp_device_for(tenant.finance)
        totp_device_for(tenant.admin)
        employee_app = totp_device_for(tenant.employee)
    with time_machine.travel(datetime(2025, 3, 20, 12, 0, tzinfo=UTC), tick=True):
        mfa_services.device_remove(user=tenant.employee, kind="authenticator_app", device_id=employee_app.id)
    with time_machine.travel(datetime(2025, 4, 8, 12, 0, tzinfo=UTC), tick=True):
        mfa_services.second_factors_reset(actor=tenant.admin, user=tenant.finance, reason="Lost phone")

    assert _mfa_column(tenant, "2025-03") == {
        tenant.employee.email: "not enrolled",
        tenant.other_employee.email: "not enrolled",
        tenant.finance.email: "enrolled: 1 authenticator app",
        tenant.admin.email: "enrolled: 1 authenticator app",
    }
    april = _mfa_column(tenant, "2025-04")
    assert april[tenant.finance.email] == "not enrolled (required)"
    assert april[tenant.admin.email] == "enrolled: 1 authenticator app"
