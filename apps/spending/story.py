"""A spend's whole story, for the back office's transaction page: what was spent and at what rate, what the
spend policy and the budgets decided, who signed, the ledger lines, the fraud scores, the
webhooks sent and the audit trail. Every value is in words, money and the organization's time (the page
never shows minor units or ids); the reversal and its original link to each other. The apps above spending
add their own parts as inlines of the transaction admin (receipts), which the page shows as tables."""

from dataclasses import dataclass, field
from typing import Any

from apps.approvals.models import ApprovalRequest, ApproverKind
from apps.audit.models import AuditEvent
from apps.fraud.models import Rule, TransactionRisk
from apps.ledger.models import Transaction
from apps.webhooks.models import Delivery
from ledgerx.formats import date_text, datetime_text, month_label
from ledgerx.money import format_money, rate_text


@dataclass
class Section:
    title: str
    facts: list[tuple[str, Any]] = field(default_factory=list)
    # A table: its column names and rows of cells, each a string (or a link: (text, transaction)).
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = ""


def transaction_headline(transaction: Transaction) -> str:
    """ "$6,000 at Dell"; a reversal reads as the credit it is: "Credit of $6,000 from Dell (reversal)"."""
    amount = format_money(transaction.amount_minor, transaction.currency)
    if transaction.kind == Transaction.Kind.REVERSAL:
        return f"Credit of {amount} from {transaction.merchant} (reversal)"
    return f"{amount} at {transaction.merchant}"


def signed_amount_text(transaction: Transaction) -> str:
    """The amount as it moves the budget: a reversal is a credit, "-$6,000"."""
    credit = transaction.kind == Transaction.Kind.REVERSAL
    return format_money(-transaction.amount_minor if credit else transaction.amount_minor, transaction.currency)


def _amounts(transaction: Transaction) -> Section:
    section = Section("Amount")
    section.facts.append(("Amount", signed_amount_text(transaction)))
    if transaction.original_currency != transaction.currency:
        section.facts += [
            ("As spent", format_money(transaction.original_amount_minor, transaction.original_currency)),
            (
                "Exchange rate",
                f"1 {transaction.original_currency} = {rate_text(transaction.fx_rate)} {transaction.currency}"
                f", rate of {date_text(transaction.fx_rate_date)}",
            ),
        ]
    else:
        section.facts.append(("Currency", f"{transaction.currency}, the organization's own: no conversion"))
    section.facts += [
        ("Merchant", transaction.merchant),
        ("Category", transaction.category),
        ("Employee", transaction.employee.email),
        ("Department", transaction.department.name),
        ("Budget month", month_label(transaction.budget_month)),
    ]
    # A reversal's description names its original by id; the page links the original instead.
    if transaction.description and transaction.kind != Transaction.Kind.REVERSAL:
        section.facts.append(("Description", transaction.description))
    if transaction.incurred_on:
        section.facts.append(("Incurred on", date_text(transaction.incurred_on)))
    return section


def _decisions(transaction: Transaction) -> Section:
    section = Section("Policy and budget")
    section.facts.append(("Submitted", datetime_text(transaction.created_at)))
    section.facts.append(("Settled", datetime_text(transaction.processed_at) or "Not yet"))
    if transaction.kind == Transaction.Kind.REVERSAL:
        section.facts.append(("Budget", "Released what the original spend had consumed"))
    elif transaction.policy_version is None:
        section.facts.append(("Spend policy", "No spend rule applied"))
    else:
        section.facts.append(("Spend policy", f"Checked against version {transaction.policy_version}"))
    if transaction.status == Transaction.Status.REJECTED:
        section.facts.append(("Decision", transaction.rejection_reason or "Rejected"))
    elif transaction.status in (Transaction.Status.POSTED, Transaction.Status.REVERSED):
        section.facts.append(("Decision", f"Fit {transaction.department.name}'s budget and every parent's"))
    else:
        section.facts.append(("Decision", transaction.get_status_display()))
    if transaction.reason:
        section.facts.append(("Reason for the reversal", transaction.reason))
    return section


def _approval(transaction: Transaction) -> Section:
    section = Section("Approval", empty="No approval was needed.")
    approval = ApprovalRequest.objects.filter(transaction=transaction).select_related("policy").first()
    if approval is None:
        return section
    section.facts += [
        ("Policy", approval.policy.name if approval.policy else "A policy since deleted"),
        ("Outcome", approval.get_status_display()),
        ("Asked", datetime_text(approval.created_at)),
        (
            "Expires" if approval.status == ApprovalRequest.Status.PENDING else "Decided",
            datetime_text(
                approval.expires_at if approval.status == ApprovalRequest.Status.PENDING else approval.decided_at
            ),
        ),
    ]
    if approval.waiting_step:
        section.facts.append(("Waiting for", approval.waiting_step))
    decisions = {decision.level: decision for decision in approval.decisions.select_related("approver")}
    section.columns = ["Step", "Who signs", "Outcome", "By", "When", "Note"]
    for level, kind in enumerate(approval.levels):
        decision = decisions.get(level)
        section.rows.append(
            [
                f"{level + 1} of {len(approval.levels)}",
                ApproverKind(kind).label,
                decision.get_outcome_display() if decision else "Waiting" if level == approval.current_level else "—",
                decision.approver.email if decision else "",
                datetime_text(decision.created_at) if decision else "",
                decision.note if decision else "",
            ]
        )
    return section


def _entries(transaction: Transaction) -> Section:
    section = Section("Ledger entries", empty="No entries: nothing was posted.")
    section.columns = ["Account", "Debit", "Credit", "GL account", "Dated"]
    for entry in transaction.entries.select_related("account"):
        amount = format_money(abs(entry.amount_minor), entry.currency)
        debit, credit = (amount, "") if entry.amount_minor > 0 else ("", amount)
        section.rows.append([entry.account.name, debit, credit, entry.gl_code or "—", datetime_text(entry.created_at)])
    return section


def _score_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_score_text(inner)}" for key, inner in value.items())
    if isinstance(value, list):
        return ", ".join(Rule(item).label if item in Rule.values else _score_text(item) for item in value) or "none"
    return str(value)


def _fraud(transaction: Transaction) -> Section:
    section = Section("Fraud checks", empty="Not scored (yet): the fraud checks score each settled spend.")
    risk = TransactionRisk.objects.filter(transaction=transaction).first()
    if risk is not None:
        section.facts.append(("Scored", datetime_text(risk.scored_at)))
        section.facts += [
            (key.replace("_", " ").capitalize(), _score_text(value)) for key, value in risk.scores.items()
        ]
    section.columns = ["Alert", "Score", "Detail", "Status", "Reviewed by"]
    for alert in transaction.fraud_alerts.select_related("resolved_by"):
        status = alert.get_status_display()
        if alert.resolution:
            status = f"{status}: {alert.get_resolution_display().lower()}"
        reviewer = f"{alert.resolved_by.email}, {datetime_text(alert.resolved_at)}" if alert.resolved_by else ""
        section.rows.append([alert.get_rule_display(), f"{alert.score:.2f}", alert.detail, status, reviewer])
    return section


def _webhooks(transaction: Transaction) -> Section:
    section = Section("Webhook deliveries", empty="No webhook was sent for it.")
    section.columns = ["Event", "Endpoint", "Status", "Attempts", "Last response", "Delivered"]
    deliveries = (
        Delivery.objects.filter(
            organization_id=transaction.organization_id, event__payload__transaction__id=str(transaction.id)
        )
        .select_related("event", "endpoint")
        .order_by("created_at")
    )
    for delivery in deliveries:
        section.rows.append(
            [
                delivery.event.type,
                delivery.endpoint.url,
                delivery.get_status_display(),
                str(delivery.attempts),
                str(delivery.last_response_code or delivery.last_error or "—"),
                datetime_text(delivery.delivered_at) or "—",
            ]
        )
    return section


def _audit(transaction: Transaction, related: list[Transaction]) -> Section:
    section = Section("Audit trail", empty="No audited change.")
    targets = [str(transaction.id), *(str(other.id) for other in related)]
    targets += [str(pk) for pk in ApprovalRequest.objects.filter(transaction=transaction).values_list("id", flat=True)]
    targets += [str(pk) for pk in transaction.fraud_alerts.values_list("id", flat=True)]
    section.columns = ["When", "What", "By"]
    events = AuditEvent.objects.filter(organization_id=transaction.organization_id, target_id__in=targets)
    for event in events.order_by("created_at", "id"):
        section.rows.append(
            [datetime_text(event.created_at), event.get_action_display(), event.actor_email or "LedgerX"]
        )
    return section


def transaction_story(*, transaction: Transaction) -> dict:
    """The page's headline, its links to the reversal or the original, and its sections in reading order."""
    reversal = Transaction.objects.filter(reversal_of=transaction).first()
    related = [other for other in (transaction.reversal_of, reversal) if other is not None]
    return {
        "headline": transaction_headline(transaction),
        "status": transaction.get_status_display(),
        "reversal_of": transaction.reversal_of,
        "reversed_by": reversal,
        "sections": [
            _amounts(transaction),
            _decisions(transaction),
            _approval(transaction),
            _entries(transaction),
            _fraud(transaction),
            _webhooks(transaction),
            _audit(transaction, related),
        ],
    }
