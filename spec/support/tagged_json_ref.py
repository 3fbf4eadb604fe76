"""Python reference for the tagged JSON cross-language spec.

Reads JSON lines on stdin, one case each: {"expr": <Python expression>, "js": <text koa-qsession wrote>}.
Answers one JSON line per case, for two serializers:

- "quart": Debian's python3-quart, quart.json.tag.TaggedJSONSerializer, unmodified.
- "flask": the same class with the two tags Flask (flask.json.tag) and Quart >= 0.19 define
  differently from Quart 0.18: " d" as an HTTP date (werkzeug http_date / parse_date) and a
  working " di" decoder. This is the format of /work/shared/spec/tagged-json.md.

For each: "dumps" = dumps(eval(expr)); for the JS text: "same" = loads(js) equals eval(expr)
(types compared too: tuple is not list, Markup is not str, floats by repr), "redump" = dumps(loads(js)).
"""
import json
import struct
import sys
from datetime import datetime, timedelta, timezone
from uuid import UUID

from markupsafe import Markup
from quart.json.tag import JSONTag, TagDateTime, TagDict, TaggedJSONSerializer
from werkzeug.http import http_date, parse_date


class FlaskTagDict(TagDict):
    def to_python(self, value):
        key = next(iter(value))
        return {key[:-2]: value[key]}


class FlaskTagDateTime(TagDateTime):
    def to_json(self, value):
        return http_date(value)

    def to_python(self, value):
        return parse_date(value)


class FlaskTaggedJSONSerializer(TaggedJSONSerializer):
    default_tags = [FlaskTagDict if t is TagDict else FlaskTagDateTime if t is TagDateTime else t
                    for t in TaggedJSONSerializer.default_tags]


def f64(hex_bits):
    """A float from its IEEE 754 bits, so no decimal text is involved in building the value."""
    return struct.unpack(">d", bytes.fromhex(hex_bits))[0]


NAMESPACE = {"UUID": UUID, "Markup": Markup, "datetime": datetime, "timedelta": timedelta,
             "timezone": timezone, "f64": f64, "utc": timezone.utc}


def same(a, b, naive_ok=False):
    """Equal values of the same types, floats to the bit, dict keys in order. Datetimes must both be
    aware, or (with naive_ok) both naive: a naive one read back as aware is a different value to Python."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k], naive_ok) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, naive_ok) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, datetime):
        if a.tzinfo is None and b.tzinfo is None:
            return naive_ok and a == b
        return a.tzinfo is not None and b.tzinfo is not None and a == b
    return a == b


def attempt(fn):
    try:
        return {"ok": fn()}
    except Exception as error:  # the report names the failure; the spec decides if it is expected
        return {"error": f"{type(error).__name__}: {error}"}


def answer(case, serializer):
    expected = eval(case["expr"], dict(NAMESPACE))  # expressions come from the spec's own corpus
    out = {"dumps": attempt(lambda: serializer.dumps(expected))}
    if case.get("js") is not None:
        out["same"] = attempt(lambda: same(serializer.loads(case["js"]), expected))
        out["redump"] = attempt(lambda: serializer.dumps(serializer.loads(case["js"])))
    return out


def main():
    serializers = {"quart": TaggedJSONSerializer(), "flask": FlaskTaggedJSONSerializer()}
    for line in sys.stdin:
        if line.strip():
            case = json.loads(line)
            reply = {name: answer(case, s) for name, s in serializers.items()}
            sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
