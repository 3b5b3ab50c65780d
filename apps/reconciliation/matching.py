"""The one decision of what matches what: statement lines against spends, scored, deterministic.

A spend is a candidate for a line when it was spent in the line's currency for exactly the line's amount
(`original_amount_minor`/`original_currency`, the amount as spent, which is the base amount for a spend in
the organization's currency) on a local day within the source's window of the line's date. Each candidate
pair is scored 0-100: 70% how alike the merchant and the statement's description are, 30% how close the
days are. A pair is matched automatically when it scores at least AUTO_MATCH_SCORE and each side is the
other's unique best (a tie matches nothing: a person decides); every other candidate is a suggestion, best
first, ties in the order of the line's position and the spend's creation.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, utils

AUTO_MATCH_SCORE = 75
MERCHANT_WEIGHT = 0.7
SUGGESTIONS_PER_LINE = 3

_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class LineFacts:
    id: uuid.UUID
    position: int
    posted_on: date
    amount_minor: int
    currency: str
    description: str


@dataclass(frozen=True)
class SpendFacts:
    id: uuid.UUID
    # The day it was spent, in the organization's timezone.
    spent_on: date
    amount_minor: int
    currency: str
    merchant: str
    order: tuple  # how ties between spends are broken: (created_at, id)


@dataclass(frozen=True)
class Candidate:
    line_id: uuid.UUID
    transaction_id: uuid.UUID
    score: int
    merchant_similarity: int
    days_apart: int


@dataclass(frozen=True)
class Decision:
    automatic: list[Candidate]
    # Per line, its other candidates, best first (at most SUGGESTIONS_PER_LINE).
    suggested: dict[uuid.UUID, list[Candidate]]


def _tokens(text: str) -> list[str]:
    """Words of a name as issuers print it, without store numbers and card references ("#1234", "0062")."""
    return [token for token in utils.default_process(text).split() if not _DIGITS.search(token)]


def _abbreviates(short: str, word: str) -> bool:
    """ "AMZN" for "amazon", "MKTP" for "marketplace", "intl" for "international": the same first letter,
    then the rest of its letters in order within the word."""
    if short == word or (len(short) >= 2 and word.startswith(short)):
        return True
    if len(short) < 3 or short[0] != word[0] or len(short) > len(word):
        return False
    letters = iter(word[1:])
    return all(letter in letters for letter in short[1:])


def merchant_similarity(description: str, merchant: str) -> int:
    """0-100: how well a statement's description names the merchant of a spend.

    The better of rapidfuzz's weighted ratio (spelling and word-order differences) and the share of the
    merchant's words that a word of the description spells or abbreviates (issuers shorten and upper-case
    names: "AMZN MKTP US" for "Amazon Marketplace").
    """
    fuzzy = fuzz.WRatio(description, merchant, processor=utils.default_process)
    statement_words, merchant_words = _tokens(description), _tokens(merchant)
    if not statement_words or not merchant_words:
        return round(fuzzy)
    covered = sum(
        1
        for word in merchant_words
        if any(_abbreviates(short, word) or fuzz.ratio(short, word) >= 85 for short in statement_words)
    )
    return round(max(fuzzy, 100 * covered / len(merchant_words)))


def pair_score(line: LineFacts, spend: SpendFacts, *, window_days: int) -> Candidate:
    similarity = merchant_similarity(line.description, spend.merchant)
    days_apart = abs((line.posted_on - spend.spent_on).days)
    closeness = max(0.0, 100 * (1 - days_apart / (window_days + 1)))
    score = round(MERCHANT_WEIGHT * similarity + (1 - MERCHANT_WEIGHT) * closeness)
    return Candidate(
        line_id=line.id,
        transaction_id=spend.id,
        score=score,
        merchant_similarity=similarity,
        days_apart=days_apart,
    )


def same_money(line: LineFacts, spend: SpendFacts) -> bool:
    return line.amount_minor == spend.amount_minor and line.currency == spend.currency


def decide(lines: list[LineFacts], spends: list[SpendFacts], *, window_days: int) -> Decision:
    """Match `lines` to `spends` (neither matched yet): the automatic matches and each line's suggestions."""
    position = {line.id: line.position for line in lines}
    spend_order = {spend.id: spend.order for spend in spends}
    by_amount: dict[tuple[int, str], list[SpendFacts]] = {}
    for spend in spends:
        by_amount.setdefault((spend.amount_minor, spend.currency), []).append(spend)
    candidates = [
        pair_score(line, spend, window_days=window_days)
        for line in lines
        if line.amount_minor > 0
        for spend in by_amount.get((line.amount_minor, line.currency), [])
        if abs((line.posted_on - spend.spent_on).days) <= window_days
    ]
    candidates.sort(key=lambda c: (-c.score, c.days_apart, position[c.line_id], spend_order[c.transaction_id]))
    of_line: dict[uuid.UUID, list[Candidate]] = {}
    of_spend: dict[uuid.UUID, list[Candidate]] = {}
    for candidate in candidates:
        of_line.setdefault(candidate.line_id, []).append(candidate)
        of_spend.setdefault(candidate.transaction_id, []).append(candidate)

    def unique_best(candidate: Candidate, ranked: list[Candidate]) -> bool:
        return ranked[0] is candidate and (len(ranked) == 1 or ranked[1].score < candidate.score)

    automatic = [
        candidate
        for candidate in candidates
        if candidate.score >= AUTO_MATCH_SCORE
        and unique_best(candidate, of_line[candidate.line_id])
        and unique_best(candidate, of_spend[candidate.transaction_id])
    ]
    matched_lines = {candidate.line_id for candidate in automatic}
    matched_spends = {candidate.transaction_id for candidate in automatic}
    suggested: dict[uuid.UUID, list[Candidate]] = {}
    for candidate in candidates:
        if candidate.line_id in matched_lines or candidate.transaction_id in matched_spends:
            continue
        ranked = suggested.setdefault(candidate.line_id, [])
        if len(ranked) < SUGGESTIONS_PER_LINE:
            ranked.append(candidate)
    automatic.sort(key=lambda c: position[c.line_id])
    return Decision(automatic=automatic, suggested=suggested)
