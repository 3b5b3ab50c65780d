"""Payment details checked the way a bank checks them, by the libraries made for it.

IBAN and BIC by schwifty (the IBAN's checksum and each country's length and format, the BIC's structure and
country); US ABA routing numbers by python-stdnum (its 3-7-1 checksum). A detail that does not pass is
refused with the field it came in, never stored.
"""

import re
from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import rtn

from ledgerx.errors import InvalidInput

SEPA = "sepa"
ACH = "ach"
RAILS = (SEPA, ACH)
ACH_ACCOUNT_TYPES = ("checking", "savings")
# The NACHA entry detail record's DFI account number field: up to 17 characters; banks use digits.
_ACH_ACCOUNT_NUMBER = re.compile(r"^[0-9]{4,17}$")


@dataclass(frozen=True)
class BankDetails:
    """How a party is paid: by SEPA credit transfer (IBAN, BIC) or by ACH (routing and account number)."""

    rail: str
    iban: str = ""
    bic: str = ""
    routing_number: str = ""
    account_number: str = ""
    account_type: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "rail": self.rail,
            "iban": self.iban,
            "bic": self.bic,
            "routing_number": self.routing_number,
            "account_number": self.account_number,
            "account_type": self.account_type,
        }

    def masked(self) -> str:
        """What a person is shown to recognise the account by, without the whole number."""
        if self.rail == SEPA:
            return f"IBAN {self.iban[:4]}…{self.iban[-4:]}"
        return f"ACH {self.routing_number} / …{self.account_number[-4:]}"


def bank_details_validate(
    *,
    rail: str,
    iban: str = "",
    bic: str = "",
    routing_number: str = "",
    account_number: str = "",
    account_type: str = "",
) -> BankDetails:
    """The details in their compact, checked form; InvalidInput naming each field that does not pass."""
    if rail == SEPA:
        return _sepa(iban=iban, bic=bic, extra={"routing_number": routing_number, "account_number": account_number})
    if rail == ACH:
        return _ach(
            routing_number=routing_number,
            account_number=account_number,
            account_type=account_type or "checking",
            extra={"iban": iban, "bic": bic},
        )
    raise InvalidInput("Choose how the account is paid.", fields={"rail": [f"One of: {', '.join(RAILS)}."]})


def _sepa(*, iban: str, bic: str, extra: dict[str, str]) -> BankDetails:
    errors: dict[str, list[str]] = _not_for_rail(extra, "SEPA")
    checked_iban = None
    try:
        checked_iban = IBAN(iban)
        if not checked_iban.in_sepa_zone:
            errors["iban"] = [f"{checked_iban.country_code} is not in the SEPA zone."]
    except SchwiftyException as error:
        errors["iban"] = [f"Not a valid IBAN: {error}."]
    checked_bic = ""
    if bic.strip():
        try:
            checked_bic = BIC(bic).compact
        except SchwiftyException as error:
            errors["bic"] = [f"Not a valid BIC: {error}."]
    elif checked_iban is not None and checked_iban.bic is not None:
        # The bank the IBAN's bank code names, from schwifty's registry: what the bank file needs.
        checked_bic = checked_iban.bic.compact
    if errors:
        raise InvalidInput("The SEPA payment details are not valid.", fields=errors)
    if not checked_bic:
        raise InvalidInput("The SEPA payment details are not valid.", fields={"bic": ["Give the bank's BIC."]})
    return BankDetails(rail=SEPA, iban=checked_iban.compact, bic=checked_bic)


def _ach(*, routing_number: str, account_number: str, account_type: str, extra: dict[str, str]) -> BankDetails:
    errors: dict[str, list[str]] = _not_for_rail(extra, "ACH")
    routing = routing_number.strip()
    try:
        routing = rtn.validate(routing)
    except StdnumError as error:
        errors["routing_number"] = [f"Not a valid ABA routing number: {error}"]
    account = account_number.replace(" ", "").replace("-", "")
    if not _ACH_ACCOUNT_NUMBER.match(account):
        errors["account_number"] = ["4 to 17 digits."]
    if account_type not in ACH_ACCOUNT_TYPES:
        errors["account_type"] = [f"One of: {', '.join(ACH_ACCOUNT_TYPES)}."]
    if errors:
        raise InvalidInput("The ACH payment details are not valid.", fields=errors)
    return BankDetails(rail=ACH, routing_number=routing, account_number=account, account_type=account_type)


def _not_for_rail(extra: dict[str, str], rail_name: str) -> dict[str, list[str]]:
    """Fields of the other rail that were sent anyway: refused, not silently dropped."""
    return {field: [f"Not used by {rail_name}."] for field, value in extra.items() if value.strip()}
