"""Builds the session config dicts the real Python libraries build, for the fromQuartConfig specs.

Reads a JSON list of cases on stdin, each {"library": ..., "settings": {...}}: `settings` go into
the app's config (app.config.update) before the library builds its dict, as an app's own
config.py would put them. Prints a JSON list, one {"config": {...}} per case (or {"error": "..."}
when the library itself refuses the settings).

Libraries:
- quart_session_3_0: the real Quart-Session 3.0.0 (vendored, spec/interop/fixtures/quart_session_3_0)
  on Debian's Quart 0.18; the dict is the one `Session(app)` builds and its session interface
  keeps (`interface._config`: app.config's SESSION_* keys after its setdefault() calls).
- quart_session_3_0_app: the same run, but the whole copy of app.config (PERMANENT_SESSION_LIFETIME,
  SECRET_KEY...) after those setdefault() calls, before Quart-Session keeps only SESSION_*.
- flask_session_0_3_2: Debian's Flask-Session 0.3.2 on Flask 2.2; the app.config copy its
  Session(app) works from, after its setdefault() calls.
- flask_session_0_8: Flask-Session 0.8 reads app.config.get(name, default) without writing a dict;
  it is not in Debian, so this is Flask 3.1's defaults with Flask-Session 0.8's (fixtures copied
  from their sources, spec/interop/fixtures/) and the settings over them.
- quart_0_18, flask_2_2, flask_3_1: the app's own config (no session extension).

Values JSON cannot hold are written the way a user hands them to fromQuartConfig: a timedelta as
its total_seconds(); anything else (a client object) as an object {"__class__", "repr"}, so the
client case stays an object. A setting {"$redis_client": url} is made into a real client first:
redis.asyncio for Quart-Session (what it awaits), redis.Redis for Flask-Session.
{"$timedelta": seconds} is made into a timedelta.
"""
import json
import os
import sys
from datetime import timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "interop", "fixtures")
sys.path.insert(0, FIXTURES)
sys.path.insert(0, os.path.join(FIXTURES, "quart_session_3_0"))

import flask  # noqa: E402
import flask_session  # noqa: E402
import quart  # noqa: E402
import quart_session  # noqa: E402
import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from flask_3_1_defaults import DEFAULT_CONFIG as FLASK_3_1  # noqa: E402
from flask_session_0_8_defaults import DEFAULTS as FLASK_SESSION_0_8  # noqa: E402


def python_value(value, asyncio_client):
    if isinstance(value, dict) and "$redis_client" in value:
        url = value["$redis_client"]
        return aioredis.from_url(url) if asyncio_client else redis.Redis.from_url(url)
    if isinstance(value, dict) and "$timedelta" in value:
        return timedelta(seconds=value["$timedelta"])
    return value


def settings_of(case, asyncio_client):
    return {k: python_value(v, asyncio_client) for k, v in case.get("settings", {}).items()}


def recording(config_class, app):
    """Makes app.config remember the copy a session extension takes of it."""
    seen = {}

    class Recording(config_class):
        def copy(self):
            seen["config"] = dict(self)
            return seen["config"]

    app.config.__class__ = Recording
    return seen


def quart_session_3_0(case, whole_app_config):
    app = quart.Quart("configs")
    app.config.update(settings_of(case, True))
    seen = recording(quart.config.Config, app)
    interface = quart_session.Session()._get_interface(app)
    return seen["config"] if whole_app_config else interface._config


def flask_session_0_3_2(case):
    app = flask.Flask("configs")
    app.config.update(settings_of(case, False))
    seen = recording(flask.Config, app)
    try:
        flask_session.Session()._get_interface(app)
    except RuntimeError as error:
        # With SESSION_MEMCACHED unset, 0.3.2 looks for a memcache module to make its own client
        # (none is installed here). Its dict is complete by then: every setdefault() came first.
        if "memcache" not in str(error):
            raise
    return seen["config"]


BUILDERS = {
    "quart_session_3_0": lambda case: quart_session_3_0(case, False),
    "quart_session_3_0_app": lambda case: quart_session_3_0(case, True),
    "flask_session_0_3_2": flask_session_0_3_2,
    "flask_session_0_8": lambda case: {**FLASK_3_1, **FLASK_SESSION_0_8, **settings_of(case, False)},
    "quart_0_18": lambda case: {**quart.Quart("configs").config, **settings_of(case, True)},
    "flask_2_2": lambda case: {**flask.Flask("configs").config, **settings_of(case, False)},
    "flask_3_1": lambda case: {**FLASK_3_1, **settings_of(case, False)},
}


def as_user_passes_it(value):
    if isinstance(value, timedelta):
        return value.total_seconds()
    kind = type(value)
    return {"__class__": f"{kind.__module__}.{kind.__qualname__}", "repr": repr(value)}


def build(case):
    try:
        return {"config": BUILDERS[case["library"]](case)}
    except NotImplementedError as error:
        return {"error": str(error)}


cases = json.load(sys.stdin)
print(json.dumps([build(case) for case in cases], default=as_user_passes_it))
