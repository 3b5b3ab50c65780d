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


def _spells_run(short: str, run: list[str]) -> bool:
    """Whether `short` is the words of `run` each shortened, run together: "wholefds" for whole foods (each
    piece starts with its word's first letter, the rest of its letters in order within the word)."""
    if not run:
        return not short
    word, rest = run[0], run[1:]
    for cut in range(1, len(short) + 1):
        piece = short[:cut]
        letters = iter(word)
        if piece[0] == word[0] and all(letter in letters for letter in piece) and _spells_run(short[cut:], rest):
            return True
    return False


def _words_covered(short: str, words: list[str]) -> set[int]:
    """Which of the merchant's `words` a word of the statement spells or abbreviates: one ("mkt": market), or
    the fewest consecutive ones run together ("wholefds": whole foods)."""
    for index, word in enumerate(words):
        if _abbreviates(short, word) or fuzz.ratio(short, word) >= 85:
            return {index}
    for length in range(2, len(words) + 1):
        for first in range(len(words) - length + 1):
            if _spells_run(short, words[first : first + length]):
                return set(range(first, first + length))
    return set()


def merchant_similarity(description: str, merchant: str) -> int:
    """0-100: how well a statement's description names the merchant of a spend.

    The better of rapidfuzz's weighted ratio (spelling and word-order differences) and the larger share of
    the merchant's words that a word of the description spells or abbreviates, or of the description's words
    that spell or abbreviate one of the merchant's (issuers shorten, truncate and upper-case names: "AMZN MKTP
    US" for "Amazon Marketplace", "WHOLEFDS MKT" for "Whole Foods Market", "DELTA AIR" for "Delta Air Lines").
    """
    fuzzy = fuzz.WRatio(description, merchant, processor=utils.default_process)
    statement_words, merchant_words = _tokens(description), _tokens(merchant)
    if not statement_words or not merchant_words:
        return round(fuzzy)
    covering = [_words_covered(short, merchant_words) for short in statement_words]
    merchant_covered = len(set().union(*covering))
    statement_covered = sum(1 for covered in covering if covered)
    coverage = max(merchant_covered / len(merchant_words), statement_covered / len(statement_words))
    return round(max(fuzzy, 100 * coverage))


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
