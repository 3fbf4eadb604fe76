"""Python side of the "untouched values stay as Python wrote them" spec.

Reads JSON lines on stdin: {"serializer": "quart" | "flask", "expr": <Python expression of a session dict>,
"koa": <text koa-qsession stored after its write, or null>, "added": [keys Koa set]}.
Without "koa": answers {"text": dumps(eval(expr))}. With it: loads the text and answers whether every
original key reads back with the value AND type Python reads from its own text (naive datetimes stay naive), whether dumps gives the
text back unchanged, and what a Quart handler computing `datetime.utcnow() - value` gets.
"""
import json
import os
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tagged_json_ref import NAMESPACE, FlaskTaggedJSONSerializer, TaggedJSONSerializer, same  # noqa: E402


def naive_ages(value):
    """What a Quart handler doing `utcnow() - stored` gets for every naive datetime in the session."""
    out = []
    if isinstance(value, dict):
        for item in value.values():
            out += naive_ages(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            out += naive_ages(item)
    elif isinstance(value, datetime) and value.tzinfo is None:
        try:
            datetime.utcnow() - value
            out.append("ok")
        except TypeError as error:
            out.append(f"TypeError: {error}")
    return out


def main():
    serializers = {"quart": TaggedJSONSerializer(), "flask": FlaskTaggedJSONSerializer()}
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        s = serializers[case["serializer"]]
        original = eval(case["expr"], dict(NAMESPACE))  # expressions come from the spec itself
        if case.get("koa") is None:
            reply = {"text": s.dumps(original)}
        else:
            # What Python itself reads back from its own text (Flask's format reads naive datetimes as UTC).
            original = s.loads(s.dumps(original))
            loaded = s.loads(case["koa"])
            kept = {k: v for k, v in loaded.items() if k not in case["added"]}
            reply = {
                "same": same(kept, original, naive_ok=True),
                "differs": [k for k in original if k not in kept or not same(kept[k], original[k], naive_ok=True)],
                "redump": s.dumps(loaded) == case["koa"],
                "ages": naive_ages(loaded),
            }
        sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
