"""A deactivated user is stopped at once: through a real server, their API token answers 401 within a
second of the provider's PATCH, and their browser session ends."""

import time

import pytest
import requests

from apps.tenancy.models import User
from tests.conftest import client_for

from .conftest import PATCH_OP, SCIM, scim_for


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_users_api_token_answers_401_within_a_second(live_server, tenant):
    scim = scim_for(tenant)
    employee = tenant.employee
    key = client_for(employee)._credentials["HTTP_AUTHORIZATION"].split()[1]
    me = f"{live_server.url}/api/v1/me"
    headers = {"Authorization": f"Token {key}"}
    # Asked twice first, so every cache of the answer (this process's, Redis's) holds the live user.
    assert requests.get(me, headers=headers, timeout=10).status_code == 200
    assert requests.get(me, headers=headers, timeout=10).status_code == 200
    generation = employee.session_generation

    deactivated = requests.patch(
        f"{live_server.url}/scim/v2/Users/{employee.id}",
        json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
        headers={"Authorization": f"Bearer {scim.key}", "Content-Type": SCIM, "Accept": SCIM},
        timeout=10,
    )
    assert deactivated.status_code == 200, deactivated.text
    answered_at = time.monotonic()
    refused = requests.get(me, headers=headers, timeout=10)
    assert refused.status_code == 401
    assert time.monotonic() - answered_at < 1.0

    employee.refresh_from_db()
    assert employee.is_active is False
    assert employee.session_generation == generation + 1, "every session signed before is ended"
    assert not employee.api_tokens.filter(revoked_at__isnull=True).exists()
    assert User.objects.get(id=tenant.other_employee.id).is_active is True
