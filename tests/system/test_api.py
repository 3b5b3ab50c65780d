import re

import pytest

from apps.tenancy.models import Role
from tests.spends import spend_submit

PROMETHEUS_LINE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')


@pytest.mark.django_db
def test_system_metrics_for_the_system_admin(api, system_admin, tenant):
    spend_submit(user=tenant.employee, amount="5.00")

    response = api(system_admin).get("/api/v1/system/metrics")

    assert response.status_code == 200
    body = response.json()
    assert [q["queue"] for q in body["queues"]] == ["settlement", "default", "fraud"]
    assert body["transactions"]["pending"] == 1
    assert body["postgresql"]["ok"] and body["redis"]["ok"]
    assert set(body["latency"]) == {"settled", "p50_ms", "p95_ms", "p99_ms"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_system_metrics_refuse_tenant_roles(api, tenant, role):
    response = api(tenant.user(role)).get("/api/v1/system/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.django_db
def test_system_metrics_need_credentials(api):
    response = api(None).get("/api/v1/system/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.django_db
def test_prometheus_metrics_are_valid_text_exposition(client, tenant):
    spend_submit(user=tenant.employee, amount="5.00")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.content.decode().splitlines()
    samples = [line for line in lines if not line.startswith("#")]
    assert all(PROMETHEUS_LINE.match(line) for line in samples), samples
    assert "ledgerx_transactions_accepted_total 1" in samples
    assert "ledgerx_transactions_posted_total 0" in samples
    assert "ledgerx_transactions_rejected_total 0" in samples
    assert "ledgerx_transactions_pending 1" in samples
    assert 'ledgerx_queue_depth{queue="settlement"} 0' in samples
    assert 'ledgerx_up{server="postgresql"} 1' in samples
    assert "# TYPE ledgerx_transactions_posted_total counter" in lines
    assert any(line.startswith('ledgerx_queue_oldest_age_seconds{queue="settlement"} ') for line in samples)
