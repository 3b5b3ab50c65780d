"""Every organization of the time gets the default chart of accounts (apps/ledger/chart_defaults.py);
later ones get it from their first posting (apps/ledger/chart.py, chart_ensure)."""

from django.db import migrations

from apps.ledger.chart_defaults import (
    DEFAULT_CATEGORY_CODES,
    DEFAULT_EXPENSE_CODE,
    DEFAULT_GL_ACCOUNTS,
    DEFAULT_LEDGER_ACCOUNT_CODES,
)


def default_charts_create(apps, schema_editor) -> None:
    Organization = apps.get_model("tenancy", "Organization")
    ChartOfAccounts = apps.get_model("ledger", "ChartOfAccounts")
    GLAccount = apps.get_model("ledger", "GLAccount")
    GLMapping = apps.get_model("ledger", "GLMapping")
    for organization in Organization.objects.exclude(id__in=ChartOfAccounts.objects.values("organization_id")):
        accounts = {
            code: GLAccount.objects.create(organization=organization, code=code, name=name, type=type_)
            for code, name, type_ in DEFAULT_GL_ACCOUNTS
        }
        ChartOfAccounts.objects.create(
            organization=organization, default_expense_account=accounts[DEFAULT_EXPENSE_CODE]
        )
        GLMapping.objects.bulk_create(
            [
                *(
                    GLMapping(organization=organization, kind="category", category=category, gl_account=accounts[code])
                    for category, code in DEFAULT_CATEGORY_CODES.items()
                ),
                *(
                    GLMapping(
                        organization=organization,
                        kind="ledger_account",
                        ledger_account_kind=kind,
                        gl_account=accounts[code],
                    )
                    for kind, code in DEFAULT_LEDGER_ACCOUNT_CODES.items()
                ),
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0020_chart_of_accounts"),
        # After the chart's tables are captured, so that the audit change log records these charts too.
        ("audit", "0010_chart_capture"),
    ]

    operations = [migrations.RunPython(default_charts_create, migrations.RunPython.noop)]
