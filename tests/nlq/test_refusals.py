"""What a refused question is shown: what was understood, in words, and three examples near it."""

from apps.nlq.refusals import EXAMPLES, examples_near, understood_in_words


def test_three_examples_of_the_same_measure_come_first():
    near = examples_near("how many vendor thingies last month", {"metric": "count", "group_by": "merchant"})
    assert len(near) == 3
    assert set(near) <= set(EXAMPLES)
    assert near[0].lower().startswith("how many")


def test_examples_share_the_words_of_the_question_when_nothing_was_understood():
    near = examples_near("what about the run-rate trend", {})
    assert near[0] == "What is our monthly run-rate this year?"


def test_what_was_understood_is_a_sentence():
    draft = {
        "metric": "total",
        "group_by": "department",
        "filters": {"category": "travel"},
        "period": {"kind": "last_quarter"},
    }
    assert understood_in_words(draft) == "Understood so far: a total, per department, category travel, last quarter."
    assert understood_in_words({}) == "Nothing in the question could be used."
