"""Reconciliation in the back office: a source and its mapping added through the service, a statement uploaded
on the source's page, and the import's reconciliation page from which finance confirms, unmatches and makes a
spend of a line; scoped to the organization. transaction=True: spends are settled for real."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.ledger.models import Transaction
from apps.reconciliation.models import StatementImport, StatementLine, StatementMatch, StatementSource
from tests.factories import signed_in_client
from tests.reconciliation.statements import csv_bytes, source_of
from tests.spends import spend_settled

pytestmark = pytest.mark.django_db(transaction=True)

SOURCES = "/admin/reconciliation/statementsource/"


MAPPING = {
    "name": "Corporate Amex",
    "kind": "card",
    "currency": "USD",
    "date_column": "Date",
    "amount_column": "",
    "debit_column": "Debit",
    "credit_column": "Credit",
    "description_column": "Description",
    "reference_column": "",
    "external_id_column": "",
    "date_format": "%m/%d/%Y",
    "decimal_separator": ".",
    "sign_convention": "charges_positive",
    "delimiter": ",",
    "date_window_days": "3",
}


def test_finance_saves_a_source_and_a_bad_mapping_is_refused_beside_its_field(tenant):
    client = signed_in_client(tenant.finance)
    refused = client.post(f"{SOURCES}add/", {**MAPPING, "credit_column": ""})
    assert refused.status_code == 200 and "Both or neither" in str(refused.context["adminform"].form.errors)
    assert client.post(f"{SOURCES}add/", MAPPING).status_code == 302
    source = StatementSource.objects.get()
    assert (source.organization, source.debit_column, source.date_format) == (tenant.organization, "Debit", "%m/%d/%Y")
    taken = client.post(f"{SOURCES}add/", MAPPING)
    assert "of that name" in str(taken.context["adminform"].form.errors["name"])


def test_finance_uploads_a_statement_and_reconciles_it_on_its_page(tenant, other_tenant):
    dell = spend_settled(tenant.employee, "1499.00", merchant="Dell")
    hilton = spend_settled(tenant.employee, "310.00", merchant="Hilton Hotels")
    source = source_of(tenant.organization)
    today = timezone.now().date().isoformat()
    content = csv_bytes(
        [(today, "1499.00", "DELL INC", ""), (today, "310.00", "HLT*GARDEN", ""), (today, "9.99", "ICLOUD", "")]
    )
    client = signed_in_client(tenant.finance)
    upload = client.post(
        f"{SOURCES}{source.id}/import/", {"file": SimpleUploadedFile("june.csv", content)}, follow=True
    )
    statement = StatementImport.objects.get()
    page = upload.content.decode()
    assert upload.redirect_chain[-1][0] == f"/admin/reconciliation/statementimport/{statement.id}/reconcile/"
    assert "3 lines imported, 1 matched automatically" in page and "HLT*GARDEN" in page and "Confirm" in page
    again = client.post(f"{SOURCES}{source.id}/import/", {"file": SimpleUploadedFile("b.csv", content)})
    assert "This file was imported already" in str(again.context["form"].errors)

    reconcile = f"/admin/reconciliation/statementimport/{statement.id}/reconcile/"
    hilton_line, icloud_line = StatementLine.objects.filter(match__isnull=True).order_by("position")
    client.post(reconcile, {"operation": "confirm", "line": str(hilton_line.id), "transaction": str(hilton.id)})
    assert StatementMatch.objects.get(line=hilton_line).transaction == hilton
    dell_line = StatementMatch.objects.get(transaction=dell).line
    client.post(reconcile, {"operation": "unmatch", "line": str(dell_line.id)})
    assert not StatementMatch.objects.filter(line=dell_line).exists()

    spend_page = f"/admin/reconciliation/statementimport/lines/{icloud_line.id}/spend/"
    made = client.post(spend_page, {"employee": str(tenant.employee.id), "department": "", "category": "software"})
    assert made.status_code == 302, made.content.decode()[:2000]
    spend = StatementMatch.objects.get(line=icloud_line).transaction
    assert (spend.merchant, spend.amount_minor, spend.status) == ("ICLOUD", 999, Transaction.Status.PENDING)

    outsider = signed_in_client(other_tenant.finance)
    assert outsider.get(reconcile).status_code == 404
    assert outsider.get(spend_page).status_code == 404
    assert outsider.get(f"{SOURCES}{source.id}/import/").status_code == 404


def test_only_finance_decides_on_the_reconciliation_page(tenant, system_admin):
    spend = spend_settled(tenant.employee, "310.00", merchant="Hilton Hotels")
    source = source_of(tenant.organization)
    content = csv_bytes([(timezone.now().date().isoformat(), "310.00", "HLT*GARDEN", "")])
    client = signed_in_client(tenant.finance)
    client.post(f"{SOURCES}{source.id}/import/", {"file": SimpleUploadedFile("june.csv", content)})
    statement = StatementImport.objects.get()
    line = statement.lines.get()
    reconcile = f"/admin/reconciliation/statementimport/{statement.id}/reconcile/"
    confirm = {"operation": "confirm", "line": str(line.id), "transaction": str(spend.id)}

    platform = signed_in_client(system_admin)
    page = platform.get(reconcile)
    assert page.status_code == 200 and 'value="Confirm"' not in page.content.decode()
    assert platform.post(reconcile, confirm).status_code == 403
    assert platform.get(f"{SOURCES}{source.id}/import/").status_code == 403
    assert signed_in_client(tenant.employee).get(reconcile).status_code == 302  # not staff: to the login page
    assert not StatementMatch.objects.exists()
