"""The chart of accounts of an organization: its general-ledger (GL) accounts and the rules that map
what is spent (merchant, category, department) and the ledger's own accounts to them.

Read once per posting by apps/ledger/chart.py, which decides each journal line's GL code and cost
centre; the line keeps them (Entry.gl_code, Entry.cost_centre), so editing the chart never rewrites
what was posted. Written only by apps/ledger/chart.py (the default chart) and chart_edits.py.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet

from .journal import Account

# What a GL code and a cost centre may be: letters, digits, '.', '-' and '_', beginning with a letter or
# digit. Never '|', which separates an entry's fields in its hash-chain link (apps/ledger/chain.py).
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
CODE_MAX_LENGTH = 32


class GLAccount(models.Model):
    class Type(models.TextChoices):
        ASSET = "asset", "Asset"
        LIABILITY = "liability", "Liability"
        EXPENSE = "expense", "Expense"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=CODE_MAX_LENGTH, help_text="As the general ledger names it, e.g. 6100.")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices)
    # Inactive: kept for the entries that carry its code, mapped by nothing and posted to no more.
    is_active = models.BooleanField(default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = "GL account"
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="gl_account_code_per_organization"),
            models.CheckConstraint(condition=Q(code__regex=CODE_PATTERN), name="gl_account_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ChartOfAccounts(models.Model):
    """That an organization has its chart (made from the default once, apps/ledger/chart.py), and the
    expense account a spend posts to when no rule maps it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.OneToOneField("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    default_expense_account = models.ForeignKey(
        GLAccount, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "chart of accounts"
        verbose_name_plural = "charts of accounts"

    def __str__(self) -> str:
        return "Chart of accounts"


class GLMapping(models.Model):
    """One rule of the chart: a merchant, a category or a department to an expense account (a department
    also to its cost centre), or one of the ledger's account kinds to its GL account.

    Which rule decides a journal line: apps/ledger/chart.py (merchant > category > department > the
    chart's default expense account).
    """

    class Kind(models.TextChoices):
        MERCHANT = "merchant", "Merchant"
        CATEGORY = "category", "Category"
        DEPARTMENT = "department", "Department"
        LEDGER_ACCOUNT = "ledger_account", "Ledger account"

    # The ledger's accounts on the other side of a spend or a payout; expense accounts are mapped by the rules above.
    class LedgerAccountKind(models.TextChoices):
        CARD_FUNDING = Account.Kind.CARD_FUNDING.value, Account.Kind.CARD_FUNDING.label
        EMPLOYEE_PAYABLE = Account.Kind.EMPLOYEE_PAYABLE.value, Account.Kind.EMPLOYEE_PAYABLE.label
        PAYOUT_CLEARING = Account.Kind.PAYOUT_CLEARING.value, Account.Kind.PAYOUT_CLEARING.label
        ACCOUNTS_PAYABLE = Account.Kind.ACCOUNTS_PAYABLE.value, Account.Kind.ACCOUNTS_PAYABLE.label
        BANK = Account.Kind.BANK.value, Account.Kind.BANK.label

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    gl_account = models.ForeignKey(
        GLAccount, on_delete=models.PROTECT, related_name="mappings", verbose_name="GL account", db_constraint=False
    )
    merchant = models.CharField(max_length=200, blank=True, default="", help_text="Matched in any letter case.")
    category = models.CharField(max_length=64, blank=True, default="", help_text="As spends give it, lower case.")
    department = models.ForeignKey(
        "tenancy.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ledger_account_kind = models.CharField(max_length=20, choices=LedgerAccountKind.choices, blank=True, default="")
    cost_centre = models.CharField(max_length=CODE_MAX_LENGTH, blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "merchant", "category", "ledger_account_kind"]
        verbose_name = "GL mapping"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="merchant", category="", department__isnull=True, ledger_account_kind="", cost_centre="")
                    & ~Q(merchant="")
                )
                | (
                    Q(kind="category", merchant="", department__isnull=True, ledger_account_kind="", cost_centre="")
                    & ~Q(category="")
                )
                | Q(kind="department", merchant="", category="", department__isnull=False, ledger_account_kind="")
                | (
                    Q(kind="ledger_account", merchant="", category="", department__isnull=True, cost_centre="")
                    & ~Q(ledger_account_kind="")
                ),
                name="gl_mapping_fields_fit_kind",
            ),
            models.CheckConstraint(
                condition=Q(cost_centre="") | Q(cost_centre__regex=CODE_PATTERN), name="gl_mapping_cost_centre_format"
            ),
            models.UniqueConstraint(
                "organization", Lower("merchant"), condition=Q(kind="merchant"), name="gl_mapping_one_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["organization", "category"], condition=Q(kind="category"), name="gl_mapping_one_per_category"
            ),
            models.UniqueConstraint(
                fields=["organization", "department"],
                condition=Q(kind="department"),
                name="gl_mapping_one_per_department",
            ),
            models.UniqueConstraint(
                fields=["organization", "ledger_account_kind"],
                condition=Q(kind="ledger_account"),
                name="gl_mapping_one_per_ledger_account_kind",
            ),
        ]

    def __str__(self) -> str:
        target = {
            self.Kind.MERCHANT: self.merchant,
            self.Kind.CATEGORY: self.category,
            self.Kind.DEPARTMENT: self.department.name if self.department_id else "",
            self.Kind.LEDGER_ACCOUNT: self.ledger_account_kind,
        }[self.kind]
        return f"{self.get_kind_display()} {target}"
