"""The default chart of accounts every organization starts from: plain data, read by the lazy default
(apps/ledger/chart.py) and by the migration that gave the organizations of the time their chart.

Finance changes an organization's chart in the back office; this only decides where it starts.
"""

# (code, name, type): 1xxx assets, 2xxx liabilities, 6xxx expenses, 7xxx other gains and losses.
DEFAULT_GL_ACCOUNTS = (
    ("1000", "Operating bank account", "asset"),
    ("1150", "Payout clearing", "asset"),
    ("2000", "Accounts payable", "liability"),
    ("2100", "Corporate card liability", "liability"),
    ("2200", "Employee reimbursements payable", "liability"),
    ("6000", "General expenses", "expense"),
    ("6100", "Travel", "expense"),
    ("6150", "Meals and entertainment", "expense"),
    ("6200", "Software subscriptions", "expense"),
    ("6210", "Cloud hosting", "expense"),
    ("6300", "Equipment", "expense"),
    ("6400", "Office supplies", "expense"),
    ("6410", "Lab supplies", "expense"),
    ("6500", "Events and conferences", "expense"),
    ("6600", "Training and books", "expense"),
    ("6700", "Shipping and postage", "expense"),
    ("6800", "Gifts", "expense"),
    ("7900", "Realised foreign exchange gain/loss", "expense"),
)
# Where a spend no rule maps goes.
DEFAULT_EXPENSE_CODE = "6000"
# Spend categories (lower case, as intake stores them) to expense accounts.
DEFAULT_CATEGORY_CODES = {
    "travel": "6100",
    "meals": "6150",
    "software": "6200",
    "cloud": "6210",
    "equipment": "6300",
    "office": "6400",
    "supplies": "6400",
    "lab supplies": "6410",
    "events": "6500",
    "training": "6600",
    "books": "6600",
    "shipping": "6700",
    "gifts": "6800",
}
# The ledger's accounts on the other side of a spend or a payout (Account.Kind) to theirs.
DEFAULT_LEDGER_ACCOUNT_CODES = {
    "card_funding": "2100",
    "employee_payable": "2200",
    "payout_clearing": "1150",
    "accounts_payable": "2000",
    "bank": "1000",
    "fx_gain_loss": "7900",
}
