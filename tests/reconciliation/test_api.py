"""/api/v1/statement-sources, statement-imports and statement-lines: the reconciliation flow over HTTP, who
may call it (finance managers and org admins), another tenant's ids (404) and bad input (400, changing
nothing). The role x route x tenant grid is in tests/security/test_access_matrix.py.

transaction=True: spends are settled for real.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.ledger.models import Transaction
from apps.reconciliation.models import StatementImport, StatementLine, StatementMatch
from tests.contract.test_api_contract import error_of
from tests.reconciliation.statements import csv_bytes, source_of
from tests.spends import spend_settled

pytestmark = pytest.mark.django_db(transaction=True)


def statement_file(rows, name="statement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def today() -> str:
    return timezone.now().date().isoformat()


def imports_path(source) -> str:
    return f"/api/v1/statement-sources/{source.id}/imports"


def test_finance_imports_a_statement_confirms_unmatches_and_makes_a_spend_of_a_line(api, tenant):
    amazon = spend_settled(tenant.employee, "129.99", merchant="Amazon Marketplace")
    hilton = spend_settled(tenant.employee, "310.00", merchant="Hilton Hotels")
    forgotten = spend_settled(tenant.employee, "64.00", merchant="Slack")
    source = source_of(tenant.organization)
    client = api(tenant.finance)
    assert client.get("/api/v1/statement-sources").json()["results"][0]["id"] == str(source.id)

    rows = [
        (today(), "129.99", "AMZN MKTP US", "R1"),
        (today(), "310.00", "HLT*GARDEN INN", ""),
        (today(), "15.99", "NETFLIX.COM", ""),
    ]
    response = client.post(imports_path(source), {"file": statement_file(rows)}, format="multipart")
    assert response.status_code == 201, response.content
    imported = response.json()
    assert (imported["lines"], imported["matched"], imported["unmatched_lines"]) == (3, 1, 2)
    assert imported["file_format"] == "csv" and imported["imported_by"] == tenant.finance.email
    assert [spend["id"] for spend in imported["unmatched_spends"]] == [str(hilton.id), str(forgotten.id)]
    assert client.get(response["Location"]).json() == imported

    lines = client.get(f"{response['Location']}/lines").json()["results"]
    assert [(line["position"], line["state"], line["amount"]) for line in lines] == [
        (2, "matched", "129.99"),
        (3, "unmatched", "310.00"),
        (4, "unmatched", "15.99"),
    ]
    assert lines[0]["match"]["transaction"] == str(amazon.id) and lines[0]["match"]["how"] == "automatic"
    [suggestion] = lines[1]["suggestions"]
    assert suggestion["transaction"]["id"] == str(hilton.id) and suggestion["days_apart"] == 0
    assert lines[2]["suggestions"] == []

    confirmed = client.post(
        f"/api/v1/statement-lines/{lines[1]['id']}/match", {"transaction": str(hilton.id)}, format="json"
    )
    assert confirmed.status_code == 201, confirmed.content
    assert (confirmed.json()["how"], confirmed.json()["matched_by"]) == ("confirmed", tenant.finance.email)
    assert client.delete(f"/api/v1/statement-lines/{lines[0]['id']}/match").status_code == 204
    assert not StatementMatch.objects.filter(line_id=lines[0]["id"]).exists()

    made = client.post(
        f"/api/v1/statement-lines/{lines[2]['id']}/spend",
        {"employee": str(tenant.other_employee.id), "category": "software", "merchant": "Netflix"},
        format="json",
    )
    assert made.status_code == 202, made.content
    spend = Transaction.objects.get(id=made.json()["transaction"])
    assert (spend.employee, spend.merchant, spend.amount_minor) == (tenant.other_employee, "Netflix", 1599)
    assert made["Location"] == f"/api/v1/transactions/{spend.id}"
    # The statement's own events (the finance user's sign-in security has its own).
    statement_events = AuditEvent.objects.filter(actor=tenant.finance, action__startswith="statement")
    assert sorted(statement_events.values_list("action", flat=True)) == sorted(
        [
            AuditEvent.Action.STATEMENT_IMPORTED,
            AuditEvent.Action.STATEMENT_MATCH_CONFIRMED,
            AuditEvent.Action.STATEMENT_MATCH_REMOVED,
            AuditEvent.Action.STATEMENT_LINE_SPEND_CREATED,
        ]
    )


def test_an_employee_may_not_reconcile_and_an_org_admin_may(api, tenant):
    source = source_of(tenant.organization)
    upload = {"file": statement_file([(today(), "1.00", "X", "")])}
    refused = api(tenant.employee).post(imports_path(source), upload, format="multipart")
    assert error_of(refused, 403)["code"] == "forbidden"
    assert error_of(api(tenant.employee).get("/api/v1/statement-sources"), 403)
    assert not StatementImport.objects.exists()
    upload = {"file": statement_file([(today(), "1.00", "X", "")])}
    assert api(tenant.admin).post(imports_path(source), upload, format="multipart").status_code == 201


def test_another_tenants_source_import_line_and_spend_are_not_found(api, tenant, other_tenant):
    theirs = source_of(other_tenant.organization)
    their_spend = spend_settled(other_tenant.employee, "1.00")
    client = api(tenant.finance)
    upload = {"file": statement_file([(today(), "1.00", "X", "")])}
    assert error_of(client.post(imports_path(theirs), upload, format="multipart"), 404)["code"] == "not_found"
    their_import = api(other_tenant.finance).post(
        imports_path(theirs), {"file": statement_file([(today(), "1.00", "Y", "")])}, format="multipart"
    )
    their_line = StatementLine.objects.get(statement_import_id=their_import.json()["id"])
    assert error_of(client.get(f"/api/v1/statement-imports/{their_import.json()['id']}"), 404)
    assert error_of(client.get(f"/api/v1/statement-imports/{their_import.json()['id']}/lines"), 404)
    assert error_of(client.delete(f"/api/v1/statement-lines/{their_line.id}/match"), 404)
    assert error_of(
        client.post(
            f"/api/v1/statement-lines/{their_line.id}/spend",
            {"employee": str(tenant.employee.id), "category": "x"},
            format="json",
        ),
        404,
    )
    # Our own line, their spend: not found either, and nothing matched.
    upload = {"file": statement_file([(today(), "1.00", "X", "")])}
    ours = client.post(imports_path(source_of(tenant.organization)), upload, format="multipart").json()
    our_line = StatementLine.objects.get(statement_import_id=ours["id"])
    answer = client.post(
        f"/api/v1/statement-lines/{our_line.id}/match", {"transaction": str(their_spend.id)}, format="json"
    )
    assert error_of(answer, 404)["message"] == "Transaction not found."
    # Their employee for a spend of our line.
    answer = client.post(
        f"/api/v1/statement-lines/{our_line.id}/spend",
        {"employee": str(other_tenant.employee.id), "category": "x"},
        format="json",
    )
    assert error_of(answer, 404)["message"] == "Employee not found."
    assert not StatementMatch.objects.exists()


def test_bad_input_is_a_400_naming_it_and_changes_nothing(api, tenant):
    source = source_of(tenant.organization)
    client = api(tenant.finance)
    bad_row = {"file": statement_file([(today(), "1.00", "X", ""), ("yesterday", "1.00", "Y", "")])}
    error = error_of(client.post(imports_path(source), bad_row, format="multipart"), 400)
    assert error["fields"] == {"file": ["Row 3, column 'Date': 'yesterday' is not a date in the format %Y-%m-%d."]}
    assert error_of(client.post(imports_path(source), {}, format="multipart"), 400)["fields"]["file"]
    extra = {"file": statement_file([(today(), "1.00", "X", "")]), "source": "mine"}
    assert error_of(client.post(imports_path(source), extra, format="multipart"), 400)["fields"] == {
        "source": ["Unknown field."]
    }
    assert not StatementImport.objects.exists()

    first = client.post(
        imports_path(source), {"file": statement_file([(today(), "1.00", "X", "")])}, format="multipart"
    )
    again = client.post(
        imports_path(source), {"file": statement_file([(today(), "1.00", "X", "")])}, format="multipart"
    )
    assert first.status_code == 201 and error_of(again, 400)["message"].startswith("This file was imported already")
    line = StatementLine.objects.get()
    assert error_of(
        client.post(f"/api/v1/statement-lines/{line.id}/match", {"transaction": "nope"}, format="json"), 400
    )["fields"] == {"transaction": ["Must be a valid UUID."]}
    wrong_money = spend_settled(tenant.employee, "2.00")
    answer = client.post(
        f"/api/v1/statement-lines/{line.id}/match", {"transaction": str(wrong_money.id)}, format="json"
    )
    assert error_of(answer, 400)["fields"] == {"transaction": ["Not the line's amount and currency."]}
    answer = client.post(
        f"/api/v1/statement-lines/{line.id}/spend", {"employee": str(tenant.employee.id)}, format="json"
    )
    assert error_of(answer, 400)["fields"] == {"category": ["This field is required."]}
    assert error_of(client.delete(f"/api/v1/statement-lines/{line.id}/match"), 409)["code"] == "conflict"
    assert not StatementMatch.objects.exists() and Transaction.objects.count() == 1


def test_a_statement_over_the_usual_1_mib_body_limit_is_taken(api, tenant):
    """The import route is one of UPLOAD_PATHS (ledgerx/body_limit.py): a busy card's year runs past 1 MiB."""
    rows = [(today(), "1.00", f"MERCHANT {n:05d} " + "X" * 220, "") for n in range(5000)]
    content = csv_bytes(rows)
    assert len(content) > 1024 * 1024
    response = api(tenant.finance).post(
        imports_path(source_of(tenant.organization)),
        {"file": SimpleUploadedFile("year.csv", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["lines"] == 5000
