"""orjson on the API's hot path: several times faster than the standard library's json."""

import json

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from ledgerx.errors import InvalidInput


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


# orjson keeps the last of duplicate keys without a word; the standard library's decoder shows them.
# Measured on a 155-byte spend body (timeit, best of 7 x 100k, a busy 2-core box): orjson alone 1.1 µs,
# the stdlib decoder with this hook 4.4 µs, this parser (both) 7.0 µs. Both it is: orjson stays the judge
# of what JSON is (it refuses NaN and lone surrogates, which the standard library takes), the second
# pass only looks for duplicates, some 6 µs per request.
_DUPLICATE_FINDER = json.JSONDecoder(object_pairs_hook=_refuse_duplicate_keys)


class ORJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if isinstance(data, (dict, list)):  # only an object can repeat a key
            try:
                _DUPLICATE_FINDER.decode(body.decode("utf-8"))
            except _DuplicateKey as duplicate:
                raise InvalidInput(
                    f"The key '{duplicate.key}' is given more than once in the JSON body.",
                    fields={duplicate.key: ["Given more than once."]},
                ) from None
        return data
