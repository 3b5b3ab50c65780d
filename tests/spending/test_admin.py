"""Transactions and entries in the back office: scoped, read-only, reversed only through the service."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.ledger.models import Entry, Transaction
from tests.factories import DepartmentFactory, login_verified
from tests.spends import spend_settled, spend_submit


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db
def test_transactions_are_scoped_searchable_and_filterable(tenant, other_tenant, system_admin):
    DepartmentFactory(organization=other_tenant.organization, name="Rockets")
    spend_submit(user=tenant.employee, amount="10.00", merchant="Acme Paper")
    spend_submit(user=tenant.other_employee, amount="11.00", merchant="Acme Pens")
    spend_submit(user=other_tenant.employee, amount="12.00", merchant="Globex Rockets Fuel")
    finance = admin_client(tenant.finance)

    listing = finance.get("/admin/ledger/transaction/").content.decode()
    assert "Acme Paper" in listing and "Acme Pens" in listing
    assert "Globex" not in listing and "Rockets" not in listing  # nor in the department filter

    found = finance.get("/admin/ledger/transaction/", {"q": tenant.employee.email}).content.decode()
    assert "Acme Paper" in found and "Acme Pens" not in found
    assert "Acme Paper" not in finance.get("/admin/ledger/transaction/", {"status__exact": "posted"}).content.decode()

    everything = admin_client(system_admin).get("/admin/ledger/transaction/").content.decode()
    assert "Acme Paper" in everything and "Globex Rockets Fuel" in everything


@pytest.mark.django_db(transaction=True)  # settlement and reversal take an advisory lock outside any transaction
def test_entries_are_read_only_for_everyone(tenant, system_admin):
    spend = spend_settled(user=tenant.employee, amount="25.00")
    entry = Entry.objects.filter(transaction=spend).first()
    for user in (tenant.finance, system_admin):
        client = admin_client(user)
        assert client.get("/admin/ledger/entry/").status_code == 200
        assert client.get(f"/admin/ledger/entry/{entry.id}/change/").status_code == 200  # a read-only view
        assert client.post(f"/admin/ledger/entry/{entry.id}/change/", {"amount_minor": 1}).status_code == 403
        assert client.get(f"/admin/ledger/entry/{entry.id}/delete/").status_code == 403
        assert client.get("/admin/ledger/entry/add/").status_code == 403
    assert client.get(f"/admin/ledger/transaction/{spend.id}/delete/").status_code == 403
    assert Entry.objects.filter(transaction=spend).count() == 2


def _reverse(client, transaction_ids, **fields):
    data = {"action": "reverse", ACTION_CHECKBOX_NAME: [str(i) for i in transaction_ids], **fields}
    return client.post("/admin/ledger/transaction/", data)


@pytest.mark.django_db(transaction=True)  # settlement and reversal take an advisory lock outside any transaction
def test_the_reverse_action_asks_why_then_reverses_through_the_service_once(tenant):
    posted = spend_settled(user=tenant.employee, amount="6000.00")
    rejected = spend_settled(user=tenant.employee, amount="49000.00")
    client = admin_client(tenant.finance)
    assert '<option value="reverse">' in client.get("/admin/ledger/transaction/").content.decode()

    form_page = _reverse(client, [posted.id])
    assert form_page.status_code == 200
    assert 'name="reason"' in form_page.content.decode()
    request_id = form_page.context["form"]["request_id"].value()

    done = _reverse(client, [posted.id, rejected.id], apply="yes", reason="Duplicate order", request_id=request_id)
    assert done.status_code == 302
    messages = [str(m) for m in done.wsgi_request._messages]
    assert any("reversed; its budget is released" in m for m in messages)
    assert any("Only a posted spend can be reversed; this one is rejected." in m for m in messages)
    posted.refresh_from_db()
    assert posted.status == Transaction.Status.REVERSED
    assert posted.reversed_by.reason == "Duplicate order"

    _reverse(client, [posted.id], apply="yes", reason="Duplicate order", request_id=request_id)
    assert Transaction.objects.filter(reversal_of=posted).count() == 1


@pytest.mark.django_db(transaction=True)  # settlement takes an advisory lock outside any transaction
def test_system_admins_see_transactions_but_do_not_reverse_them(tenant, system_admin):
    posted = spend_settled(user=tenant.employee, amount="60.00")
    client = admin_client(system_admin)
    assert '<option value="reverse">' not in client.get("/admin/ledger/transaction/").content.decode()
    _reverse(client, [posted.id], apply="yes", reason="no", request_id="3f8e2b7a-6a43-4d4a-9a0e-0f3bb2f4f1a1")
    posted.refresh_from_db()
    assert posted.status == Transaction.Status.POSTED
