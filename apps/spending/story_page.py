"""The back office's page of one spend: its story (story.py) as the transaction admin shows it, with the
parts the apps above spending add as inlines (receipts), the reversal and its original linked both ways,
and the button that starts a reversal (the admin action, with its confirmation)."""

from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_field, display_for_value, label_for_field, lookup_field
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.ledger.models import Transaction

from .story import Section, transaction_headline, transaction_story


def transaction_link(transaction: Transaction) -> str:
    """A link to a spend's page, named in words."""
    url = reverse("admin:ledger_transaction_change", args=[transaction.id])
    return format_html('<a href="{}">{}</a>', url, transaction_headline(transaction))


def inline_sections(model_admin, request, transaction: Transaction) -> list[Section]:
    """Each inline another app adds (receipts), as a read-only table, for the roles it shows to."""
    sections = []
    empty = model_admin.get_empty_value_display()
    for inline in model_admin.get_inline_instances(request, transaction):
        fk_name = inline.get_formset(request, transaction).fk.name
        fields = inline.get_fields(request, transaction)
        section = Section(
            str(inline.verbose_name_plural).capitalize(),
            columns=[label_for_field(name, inline.model, inline) for name in fields],
            empty=f"No {inline.verbose_name_plural}.",
        )
        for row in inline.get_queryset(request).filter(**{fk_name: transaction}):
            cells = []
            for name in fields:
                model_field, _, value = lookup_field(name, row, inline)
                cells.append(
                    display_for_value(value, empty)
                    if model_field is None
                    else display_for_field(value, model_field, empty)
                )
            section.rows.append(cells)
        sections.append(section)
    return sections


def story_page(model_admin, request, transaction: Transaction, *, can_reverse: bool) -> TemplateResponse:
    story = transaction_story(transaction=transaction)
    context = {
        **model_admin.admin_site.each_context(request),
        **story,
        "sections": [*story["sections"], *inline_sections(model_admin, request, transaction)],
        "title": transaction_headline(transaction),
        "subtitle": None,
        "opts": model_admin.model._meta,
        "transaction": transaction,
        "reversal_of_link": transaction_link(story["reversal_of"]) if story["reversal_of"] else "",
        "reversed_by_link": transaction_link(story["reversed_by"]) if story["reversed_by"] else "",
        "can_reverse": can_reverse
        and transaction.status == Transaction.Status.POSTED
        and transaction.kind != Transaction.Kind.REVERSAL,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/ledger/transaction/story.html", context)
