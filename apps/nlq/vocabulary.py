"""What a question may name: the departments, categories, merchants and people the asker may see.

The gate (`spec.spec_from_draft`) resolves every name a draft filters on here, whichever parser
wrote the draft: a name the organization does not have is refused with the closest ones it does
have, and a department or person outside what an employee may see is refused in words, never
answered with a 0.00. A resolved filter carries the organization's own spellings, so the executor
only ever filters on values that exist.
"""

import difflib
from dataclasses import dataclass

from apps.ledger.models import Transaction
from apps.spending.selectors import transactions_visible
from apps.tenancy.models import Department, User
from apps.tenancy.permissions import FINANCE_ROLES
from apps.tenancy.selectors import departments_with_spend_view

from .errors import SpecError

KINDS = ("department", "category", "merchant", "employee")
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.5
# Finance shorthand for a family of categories: whichever of these the organization uses.
CATEGORY_FAMILIES = {
    "t&e": ("travel", "meals", "entertainment", "events", "lodging", "hotels"),
    "travel and entertainment": ("travel", "meals", "entertainment", "events", "lodging", "hotels"),
    "travel & entertainment": ("travel", "meals", "entertainment", "events", "lodging", "hotels"),
    "saas": ("software", "cloud"),
}


class UnknownValue(SpecError):
    """A name the organization (or the part of it the asker sees) does not have."""

    def __init__(self, kind: str, value: str, suggestions: list[str], *, restricted: bool) -> None:
        where = " in the spend you can see" if restricted else ""
        message = f"No {kind} '{value}'{where}."
        if suggestions:
            listed = suggestions[0] if len(suggestions) == 1 else ", ".join(suggestions[:-1]) + " or " + suggestions[-1]
            message += f" Did you mean {listed}?"
        super().__init__(message)
        self.kind = kind
        self.value = value
        self.suggestions = suggestions


class OutOfScope(SpecError):
    """A department or person whose spend the asker may not see."""


@dataclass(frozen=True)
class Resolved:
    """A filter as the organization spells it: `label` for people, `values` for the executor."""

    label: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The names known to the asker. `visible_departments` and `visible_employees` are None for
    finance managers and org admins, who see the whole organization; for an employee they are what
    guardian grants (departments) and whose spend that lets her see (people, herself included)."""

    departments: tuple[str, ...]
    categories: tuple[str, ...]
    merchants: tuple[str, ...]
    employees: tuple[str, ...]
    asker: str = ""
    visible_departments: frozenset[str] | None = None
    visible_employees: frozenset[str] | None = None

    @property
    def restricted(self) -> bool:
        return self.visible_departments is not None

    def resolve(self, kind: str, value: str) -> Resolved:
        """The organization's spelling of `value`, or UnknownValue / OutOfScope saying why not."""
        return {
            "department": self._department,
            "category": self._category,
            "merchant": self._merchant,
            "employee": self._employee,
        }[kind](value)

    def resolve_all(self, names: dict[str, str], *, taken: set[str]) -> dict[str, Resolved]:
        """Every name a draft gives, resolved. A name unknown as what the parser took it for but
        exactly one of another kind the draft leaves empty ("expenses for bob": a person, not a
        category) is taken as that; the answer's sentence says which it was taken for."""
        resolved: dict[str, Resolved] = {}
        for kind, value in names.items():
            try:
                resolved[kind] = self.resolve(kind, value)
            except UnknownValue as unknown:
                other = self._exact_kind(value, skip=taken)
                if other is None or other in resolved:
                    raise unknown from None
                resolved[other] = self.resolve(other, value)
        return resolved

    def _exact_kind(self, value: str, *, skip: set[str]) -> str | None:
        wanted = value.lower()
        exact = {
            "department": _exact(value, self.departments),
            "category": _exact(value, self.categories),
            "merchant": _exact(value, self.merchants),
            "employee": next((e for e in self.employees if wanted in (e.lower(), e.lower().split("@")[0])), None),
        }
        return next((kind for kind in KINDS if kind not in skip and exact[kind] is not None), None)

    def _unknown(self, kind: str, value: str, known: tuple[str, ...] | list[str]) -> UnknownValue:
        # Categories and merchants are those of the spend the asker sees; departments and people the organization's.
        restricted = self.restricted and kind in ("category", "merchant")
        return UnknownValue(kind, value, closest(value, known), restricted=restricted)

    def _department(self, value: str) -> Resolved:
        name = _exact(value, self.departments)
        if name is None:
            seen = self.departments if self.visible_departments is None else sorted(self.visible_departments)
            raise self._unknown("department", value, seen)
        if self.visible_departments is not None and name not in self.visible_departments:
            raise OutOfScope(
                f"You see only your own spend, so the question about '{value}' cannot be answered for you: "
                f"a department's spend is for its head and for finance."
            )
        return Resolved(name, (name,))

    def _category(self, value: str) -> Resolved:
        family = CATEGORY_FAMILIES.get(value.lower())
        if family is not None:
            members = tuple(name for name in self.categories if name.lower() in family)
            if members:
                return Resolved(value.upper() if value.lower() == "t&e" else value, members)
        name = _exact(value, self.categories) or _exact(_other_number(value), self.categories)
        if name is None:
            raise self._unknown("category", value, self.categories)
        return Resolved(name, (name,))

    def _merchant(self, value: str) -> Resolved:
        name = _exact(value, self.merchants)
        if name is not None:
            return Resolved(name, (name,))
        # A part of a name ("delta" for "Delta Air Lines") stands for every merchant it is part of.
        wanted = value.lower()
        matches = tuple(name for name in self.merchants if wanted in name.lower())
        if not matches:
            raise self._unknown("merchant", value, self.merchants)
        return Resolved(matches[0] if len(matches) == 1 else value, matches)

    def _employee(self, value: str) -> Resolved:
        wanted = value.lower()
        matches = [email for email in self.employees if email.lower() == wanted]
        if not matches and "@" not in wanted:
            matches = [email for email in self.employees if email.lower().split("@")[0] == wanted]
        if len(matches) != 1:
            seen = self.employees if self.visible_employees is None else sorted(self.visible_employees)
            if matches:
                raise UnknownValue("employee", value, matches[:MAX_SUGGESTIONS], restricted=False)
            local_parts = {email.split("@")[0]: email for email in seen}
            near = closest(value, list(local_parts)) if "@" not in wanted else closest(value, seen)
            raise UnknownValue("employee", value, [local_parts.get(name, name) for name in near], restricted=False)
        email = matches[0]
        if self.visible_employees is not None and email not in self.visible_employees and email != self.asker:
            raise OutOfScope(
                f"You see only your own spend, so the question about '{value}' cannot be answered for you: "
                f"another person's spend is for their department's head and for finance."
            )
        return Resolved(email, (email,))


def vocabulary_for(*, user: User) -> Vocabulary:
    """The names `user` may ask about: the organization's departments and people, and the categories
    and merchants of the spend the user sees (so a suggestion never reveals anyone else's spend)."""
    spends = transactions_visible(user=user).filter(kind=Transaction.Kind.SPEND).order_by()
    departments = Department.objects.of(user.organization).order_by("name").values_list("name", flat=True)
    employees = User.objects.of(user.organization).order_by("email").values_list("email", flat=True)
    visible_departments = visible_employees = None
    if user.role not in FINANCE_ROLES:
        visible_departments = frozenset(departments_with_spend_view(user=user).values_list("name", flat=True))
        visible_employees = frozenset(spends.values_list("employee__email", flat=True).distinct()) | {user.email}
    return Vocabulary(
        departments=tuple(dict.fromkeys(departments)),
        categories=tuple(sorted(set(spends.values_list("category", flat=True).distinct()))),
        merchants=tuple(sorted(set(spends.values_list("merchant", flat=True).distinct()))),
        employees=tuple(employees),
        asker=user.email,
        visible_departments=visible_departments,
        visible_employees=visible_employees,
    )


def closest(value: str, known: tuple[str, ...] | list[str]) -> list[str]:
    """Up to three known names nearest to `value`, nearest first, in their own spelling."""
    by_lower = {name.lower(): name for name in known}
    near = difflib.get_close_matches(value.lower(), list(by_lower), n=MAX_SUGGESTIONS, cutoff=SUGGESTION_CUTOFF)
    return [by_lower[name] for name in near]


def _exact(value: str, known: tuple[str, ...]) -> str | None:
    wanted = value.lower()
    return next((name for name in known if name.lower() == wanted), None)


def _other_number(value: str) -> str:
    """ "meal" for "meals" and "meals" for "meal": categories are named either way."""
    return value[:-1] if value.lower().endswith("s") else value + "s"
