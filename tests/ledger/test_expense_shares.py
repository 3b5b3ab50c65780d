"""How the journal writer shares a split spend's base amount over its lines: exactly, largest remainders first."""

from apps.ledger.services import shares_of


def test_shares_sum_exactly_to_the_amount_largest_remainders_first():
    assert shares_of(100, [1, 1, 1]) == [34, 33, 33]
    assert shares_of(110_000, [33_333, 66_667]) == [36_666, 73_334]
    assert shares_of(5, [1, 1_000_000]) == [0, 5]
    assert sum(shares_of(999_999, [7, 11, 13, 17])) == 999_999
