"""The Gemini adapter on recorded model outputs, valid and invalid, without network.

The fake client stands in for google.genai.Client only at the network edge: it answers
`models.generate_content(model=..., contents=..., config=...)` from a file in recordings/.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import override_settings
from google import genai
from google.genai import errors

from apps.nlq import parsing
from apps.nlq.errors import ParseFailed, QuestionNotUnderstood, UnknownValueRefused
from apps.nlq.gemini import GeminiParser, gemini_client
from apps.nlq.parsing import configured_parsers, question_parse
from apps.nlq.rules import RulesParser
from apps.nlq.selectors import query_answer
from apps.nlq.spec import DRAFT_JSON_SCHEMA, spec_from_draft

from .conftest import NOW
from .test_rules import CONTEXT, LAST_QUARTER, THIS_MONTH, expect, salient

RECORDINGS = Path(__file__).parent / "recordings"
MODEL = "gemini-2.5-flash"


def load(name: str) -> dict:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


class RecordedModels:
    def __init__(self, recording: dict) -> None:
        self.recording = recording
        self.calls: list[dict] = []

    def generate_content(self, *, model, contents, config):
        self.calls.append({"model": model, "contents": contents, "config": config})
        if "error" in self.recording:
            code = self.recording["error"]["code"]
            error_class = errors.ServerError if code >= 500 else errors.ClientError
            raise error_class(code, self.recording["error"]["response_json"])
        return SimpleNamespace(text=self.recording["response_text"])


class RecordedClient:
    def __init__(self, name: str) -> None:
        self.recording = load(name)
        self.models = RecordedModels(self.recording)


def gemini(name: str) -> tuple[GeminiParser, RecordedClient]:
    client = RecordedClient(name)
    return GeminiParser(client=client, model=MODEL), client


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("top_expenses_this_month", expect("list", THIS_MONTH, order=("amount", "desc"), limit=10)),
        ("sales_travel_last_quarter", expect("total", LAST_QUARTER, department="Sales", category="travel")),
        ("departments_over_80_percent", expect("budget_usage", THIS_MONTH, usage_over_percent=80)),
        ("tracking_against_sales_budget", expect("budget_usage", THIS_MONTH, department="Sales")),
        (
            "vendor_outlays_april",
            expect("total", ("2026-04-01", "2026-04-30"), group_by="merchant", order=("value", "desc"), limit=5),
        ),
    ],
)
def test_valid_recordings_validate_into_the_expected_spec(name, expected):
    parser, client = gemini(name)
    draft = parser.draft(client.recording["question"], context=CONTEXT)
    assert salient(spec_from_draft(draft, context=CONTEXT)) == expected


def test_the_request_asks_for_json_under_the_draft_schema():
    parser, client = gemini("top_expenses_this_month")
    parser.draft("Show me top expenses this month", context=CONTEXT)
    [call] = client.models.calls
    assert call["model"] == MODEL
    assert call["contents"] == "Show me top expenses this month"
    config = call["config"]
    assert config.response_mime_type == "application/json"
    assert config.response_json_schema == DRAFT_JSON_SCHEMA
    assert "Today is 2026-05-14" in config.system_instruction
    assert "America/New_York" in config.system_instruction
    assert "Customer Success, Engineering, Sales" in config.system_instruction
    assert "Its categories: equipment, meals, office supplies, software, travel." in config.system_instruction
    assert "never write SQL" in config.system_instruction


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_json", "not JSON"),
        ("markdown_fenced", "not JSON"),
        ("empty_text", "no text"),
        ("server_overloaded", "ServerError"),
        ("quota_exhausted", "ClientError"),
    ],
)
def test_unusable_answers_fail_the_adapter(name, message):
    parser, client = gemini(name)
    with pytest.raises(ParseFailed, match=message):
        parser.draft(client.recording["question"], context=CONTEXT)


@pytest.mark.parametrize(
    "name",
    [
        "not_json",
        "markdown_fenced",
        "sql_field",
        "float_amount",
        "list_grouped",
        "empty_text",
        "server_overloaded",
        "quota_exhausted",
    ],
)
def test_invalid_or_failing_output_falls_back_to_the_rules(techcorp, name):
    parser, client = gemini(name)
    question = client.recording["question"]
    finance = techcorp.users["finance"]
    parsed = question_parse(question=question, user=finance, now=NOW, parsers=[parser, RulesParser()])
    assert parsed.source == "rules"
    rules_alone = question_parse(question=question, user=finance, now=NOW, parsers=[RulesParser()])
    assert parsed.spec == rules_alone.spec


@pytest.mark.parametrize("name", ["other_organization", "refused_null_metric", "unknown_period"])
def test_invalid_output_for_a_question_the_rules_cannot_map_is_a_400(tenant, name):
    parser, client = gemini(name)
    with pytest.raises(QuestionNotUnderstood) as caught:
        question_parse(
            question=client.recording["question"],
            user=tenant.finance,
            now=NOW,
            parsers=[parser, RulesParser()],
        )
    assert caught.value.fields["examples"]


def test_a_valid_answer_naming_another_tenants_department_is_refused_at_the_gate(techcorp):
    """Gemini's draft passes through the same name check as the rules': Research is Globex's."""
    parser, client = gemini("other_tenant_department")
    assert parser.draft(client.recording["question"], context=CONTEXT)["filters"]["department"] == "Research"
    with pytest.raises(UnknownValueRefused) as caught:
        query_answer(
            user=techcorp.users["finance"],
            question="How much did Research spend this month?",
            now=NOW,
            parsers=[parser, RulesParser()],
        )
    assert caught.value.fields["value"] == "research"
    assert "research" not in [name.lower() for name in caught.value.fields["suggestions"]]


def test_gemini_answers_are_cached_with_their_source(techcorp):
    parser, client = gemini("sales_travel_last_quarter")
    ask = {
        "user": techcorp.users["finance"],
        "question": "How much did Sales spend on travel last quarter?",
        "now": NOW,
        "parsers": [parser, RulesParser()],
    }
    first, second = query_answer(**ask), query_answer(**ask)
    assert (first["source"], first["cached"]) == ("gemini", False)
    assert (second["source"], second["cached"]) == ("gemini", True)
    assert first["rows"] == second["rows"] == [["980.00"]]
    assert len(client.models.calls) == 1


def test_without_a_key_only_the_rules_parse():
    assert [parser.source for parser in configured_parsers()] == ["rules"]


@override_settings(GEMINI_API_KEY="test-key", GEMINI_MODEL="gemini-test-model")
def test_with_a_key_the_real_client_is_built_and_asked_first():
    gemini_client.cache_clear()
    try:
        first, second = configured_parsers()
        assert isinstance(first, GeminiParser)
        assert isinstance(first.client, genai.Client)
        assert first.model == "gemini-test-model"
        assert second.source == "rules"
    finally:
        gemini_client.cache_clear()


@override_settings(GEMINI_API_KEY="test-key")
def test_the_endpoint_uses_gemini_when_configured(techcorp, api, monkeypatch):
    client = RecordedClient("tracking_against_sales_budget")
    monkeypatch.setattr(parsing, "gemini_client", lambda api_key: client)
    response = api(techcorp.users["finance"]).post(
        "/api/v1/query", {"q": "How are we tracking against the Sales budget?"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "gemini"
    assert body["interpretation"]["metric"] == "budget_usage"
    assert [row[0] for row in body["rows"]] == ["Sales"]
