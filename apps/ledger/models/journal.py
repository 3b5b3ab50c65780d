import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.ledger.ids import transaction_id
from apps.tenancy.scoping import TenantQuerySet
from ledgerx.formats import date_text
from ledgerx.money import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, format_money


class Account(models.Model):
    class Kind(models.TextChoices):
        CARD_FUNDING = "card_funding", "Card funding"
        EXPENSE = "expense", "Expense"
        # What the organization owes one employee for the reimbursement claims it approved and has not paid.
        EMPLOYEE_PAYABLE = "employee_payable", "Employee payable"
        # Where released payouts wait for the bank to pay them out (one per organization).
        PAYOUT_CLEARING = "payout_clearing", "Payout clearing"
        # What the organization owes its vendors for the bills it approved and has not paid (one per organization).
        ACCOUNTS_PAYABLE = "accounts_payable", "Accounts payable"
        # The organization's bank, which vendor payment runs pay out of (one per organization).
        BANK = "bank", "Bank"
        # Where a bill paid in a foreign currency books the difference between its base amount at approval
        # (what accounts payable owes) and at payment (what left the bank): a debit a loss, a credit a gain.
        FX_GAIN_LOSS = "fx_gain_loss", "Realised FX gain/loss"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    department = models.OneToOneField(
        "tenancy.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expense_account",
        db_constraint=False,
    )
    # The payee of an employee_payable account; it belongs to the account's organization (composite key
    # account_employee_in_organization, migration 0014).
    employee = models.ForeignKey(
        "tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="card_funding"),
                name="account_one_card_funding_per_organization",
            ),
            # The target of the entries' composite foreign key (migration 0010).
            models.UniqueConstraint(fields=["organization", "id"], name="account_unique_in_organization"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="payout_clearing"),
                name="account_one_payout_clearing_per_organization",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="accounts_payable"),
                name="account_one_accounts_payable_per_organization",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="bank"),
                name="account_one_bank_per_organization",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(kind="fx_gain_loss"),
                name="account_one_fx_gain_loss_per_organization",
            ),
            models.UniqueConstraint(
                fields=["employee", "organization"],
                condition=Q(kind="employee_payable"),
                name="account_one_payable_per_employee",
            ),
            # An expense account is a department's, a payable an employee's, the others the organization's.
            models.CheckConstraint(
                condition=(Q(kind="expense") & Q(department__isnull=False) & Q(employee__isnull=True))
                | (Q(kind="employee_payable") & Q(department__isnull=True) & Q(employee__isnull=False))
                | (
                    Q(kind__in=["card_funding", "payout_clearing", "accounts_payable", "bank", "fx_gain_loss"])
                    & Q(department__isnull=True)
                    & Q(employee__isnull=True)
                ),
                name="account_owner_fits_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Transaction(models.Model):
    class Kind(models.TextChoices):
        SPEND = "spend", "Spend"
        REVERSAL = "reversal", "Reversal"
        # An employee's out-of-pocket expense claimed back: settled as a spend, owed to the employee.
        REIMBURSEMENT = "reimbursement", "Reimbursement"
        # A vendor's bill (apps/payables): settled as a spend, owed to the vendor on accounts payable.
        BILL = "bill", "Bill"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        POSTED = "posted", "Posted"
        REJECTED = "rejected", "Rejected"
        REVERSED = "reversed", "Reversed"

    # Time-ordered (UUIDv7) since migration 0033, for index locality; older rows keep their v4 ids.
    id = models.UUIDField(primary_key=True, default=transaction_id, editable=False)
    # Indexed through txn_org_created and the idempotency constraint, which lead with it. The
    # organization, the department and the employee are held together by two composite foreign
    # keys (migration 0009): a row's department and employee belong to its organization, which
    # exists because the department does. Two checks per insert where single-column keys took three,
    # and none of them locks the organization's row, which every concurrent spend would share.
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SPEND)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The amount in the organization's base currency: what the ledger, budgets, tallies and limits count.
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # The amount as spent, and the rate that converted it (base units per unit of it, rounded half-even
    # once: ledgerx.money.convert_minor) with the day of that rate. A spend in the base currency has
    # the same amount, rate 1 and no rate date; a reversal carries its original's, never today's.
    original_amount_minor = models.BigIntegerField()
    original_currency = models.CharField(max_length=3)
    fx_rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES)
    fx_rate_date = models.DateField(null=True, blank=True)
    merchant = models.CharField(max_length=200)
    category = models.CharField(max_length=64)
    description = models.TextField(blank=True, default="")
    department = models.ForeignKey(
        "tenancy.Department", on_delete=models.PROTECT, related_name="transactions", db_constraint=False
    )
    # Indexed through txn_employee_created, which leads with it.
    employee = models.ForeignKey(
        "tenancy.User", on_delete=models.PROTECT, related_name="transactions", db_index=False, db_constraint=False
    )
    # Who made the request: the employee for a spend, the finance user for a reversal. Never
    # searched by; an index would only slow every insert on the ingest path.
    created_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The budget month the spend counts against, fixed when it is accepted.
    budget_month = models.DateField()
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, default="")
    # The spend policy version settlement decided this spend on (apps/controls); None before settlement,
    # for a reversal, and in an organization that never had a spend rule.
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", db_constraint=False
    )
    reason = models.TextField(blank=True, default="", help_text="Why a reversal was made.")
    # A reimbursement claim's day of purchase, as the employee states it, or a bill's date; None for any other kind.
    incurred_on = models.DateField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="transaction_idempotency_key_per_organization"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(original_currency=F("currency"), original_amount_minor=F("amount_minor"), fx_rate=1)
                    & Q(fx_rate_date__isnull=True)
                )
                | (
                    ~Q(original_currency=F("currency"))
                    & Q(original_amount_minor__gt=0, fx_rate__gt=0, fx_rate_date__isnull=False)
                ),
                name="transaction_original_amount_converted",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["spend", "reimbursement", "bill"], reversal_of__isnull=True)
                | Q(kind="reversal", reversal_of__isnull=False),
                name="transaction_reversal_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="txn_org_created"),
            models.Index(fields=["employee", "-created_at"], name="txn_employee_created"),
            # The settlement claim's own order, so that it is a plain index scan: one of those marks the
            # entries of settled spends dead as it passes them, where a bitmap scan would read them again
            # at every claim until a VACUUM.
            models.Index(
                fields=["organization", "created_at", "id"],
                condition=Q(status="pending"),
                name="txn_pending_by_org_age",
            ),
        ]

    def __str__(self) -> str:
        """In words, for the back office's lists and confirmations: "$6,000 at Dell on Mar 15, 2027"."""
        amount = format_money(self.amount_minor, self.currency)
        day = date_text(timezone.localtime(self.created_at).date())
        if self.kind == self.Kind.REVERSAL:
            return f"Reversal (credit) of {amount} at {self.merchant} on {day}"
        if self.kind == self.Kind.REIMBURSEMENT:
            return f"Reimbursement of {amount} for {self.merchant} on {day}"
        return f"{amount} at {self.merchant} on {day}"


# The account a spend's journal credits, by the spend's kind (a reversal's is its original's): a card spend
# is paid from card funding, a reimbursement claim is owed to its employee, a bill to its vendor. The one
# statement of it: the journal writer (services.credit_account_kind) and verify_ledger both read it.
CREDIT_ACCOUNT_OF_KIND = {
    Transaction.Kind.SPEND: Account.Kind.CARD_FUNDING,
    Transaction.Kind.REIMBURSEMENT: Account.Kind.EMPLOYEE_PAYABLE,
    Transaction.Kind.BILL: Account.Kind.ACCOUNTS_PAYABLE,
}


class Entry(models.Model):
    """One leg of a journal. Append-only: the database refuses UPDATE, DELETE and TRUNCATE."""

    id = models.BigAutoField(primary_key=True)
    # The database holds organization and account together: the account belongs to the entry's
    # organization, which exists because the account does (composite key entry_account_in_organization,
    # migration 0010). One check per entry instead of two, on the settlement's busiest statement.
    # Indexed through entry_organization_created, which leads with it.
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries", db_constraint=False)
    # Indexed through entry_account_created and entry_account_id, which lead with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_constraint=False, db_index=False
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)
    # The general-ledger account and cost centre of the organization's chart of accounts this line posts
    # to, as they were at posting: a later change of the mapping does not rewrite history. Empty on the
    # entries posted before the chart of accounts existed.
    gl_code = models.CharField(max_length=32, blank=True, default="", db_default="")
    cost_centre = models.CharField(max_length=32, blank=True, default="", db_default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="entry_amount_not_zero"),
        ]
        # An account's balance at an instant reads its entries by date after a checkpoint's cut, and by id
        # after a checkpoint's last entry (apps/ledger/balances.py); the amounts ride along so that both
        # are index-only scans. They replace the plain index on account_id.
        indexes = [
            models.Index(
                fields=["account", "created_at"], include=["amount_minor", "id"], name="entry_account_created"
            ),
            models.Index(fields=["account", "id"], include=["created_at", "amount_minor"], name="entry_account_id"),
            # An organization's entries of a month (a close, its verification, a books export), index-only in
            # each partition; it replaces the plain index on organization_id, which the sealer reads by too.
            models.Index(
                fields=["organization", "created_at"], include=["amount_minor", "id"], name="entry_organization_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount_minor, self.currency)} on {self.account}"


class EntrySeal(models.Model):
    """An entry's link in its organization's hash chain, written by the sealer off the payment path.

    `hash` covers the entry's content, its place in the chain and `prev_hash`, the hash of the
    link before it, so changing any sealed entry below the application breaks the chain there.
    Append-only: the database refuses UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(help_text="1, 2, 3, ... within the organization.")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="seal", db_constraint=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "sequence"]
        # The seals are partitioned with their entries (migration 0028): a sequence is unique within each
        # month's partition (a unique index there); across them the sealer's lock keeps it so, and
        # verify_ledger names a repeated link as a gap in the chain.
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gte=1), name="entry_seal_sequence_positive"),
        ]

    def __str__(self) -> str:
        return f"seal {self.sequence} of entry {self.entry_id}"


class ChainCheckpoint(models.Model):
    """A signed statement of an organization's chain head, written by the sealer after it seals.

    `signature` is an HMAC (key LEDGER_CHECKPOINT_KEY, kept outside the database) over every other
    column, `previous_signature` included, so a chain re-hashed consistently in SQL, links deleted
    from its end, or a checkpoint edited or removed no longer agree with what was signed.
    Append-only: the database refuses UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(help_text="The last sealed link it covers.")
    head_hash = models.CharField(max_length=64, help_text="The hash of link `sequence`.")
    entry_count = models.BigIntegerField(help_text="How many links the chain had up to `sequence`.")
    created_at = models.DateTimeField(default=timezone.now)
    previous_signature = models.CharField(max_length=64, help_text="The signature of the checkpoint before it.")
    signature = models.CharField(max_length=64)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="chain_checkpoint_sequence_per_org"),
        ]

    def __str__(self) -> str:
        return f"checkpoint at link {self.sequence}"
