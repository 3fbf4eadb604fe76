"""Prints, as JSON, the default config dicts a Koa app migrating from Python would hand to
fromQuartConfig: what real Python has (Debian's Quart 0.18, Flask 2.2, Flask-Session 0.3.2) and the
defaults of Quart-Session 3.0, Flask 3.1 and Flask-Session 0.8 (fixtures copied from their sources,
see spec/interop/fixtures/). A timedelta prints as its total_seconds(), None as null; anything else
JSON cannot hold as its repr (no such value is a session setting's default).
"""
import json
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))

import flask  # noqa: E402
import flask_session  # noqa: E402
from quart import Quart  # noqa: E402

from flask_3_1_defaults import DEFAULT_CONFIG as FLASK_3_1  # noqa: E402
from flask_session_0_8_defaults import DEFAULTS as FLASK_SESSION_0_8  # noqa: E402
from quart_session_3_0_defaults import SETDEFAULTS as QUART_SESSION_3_0  # noqa: E402


def printable(value):
    if isinstance(value, timedelta):
        return value.total_seconds()
    return repr(value)


def flask_session_0_3_2_config():
    """The config Flask-Session 0.3.2 works from: app.config.copy() after its setdefault() calls."""
    app = flask.Flask("configs")
    seen = {}

    class Recording(flask.Config):
        def copy(self):
            seen["config"] = dict(self)
            return seen["config"]

    app.config.__class__ = Recording
    flask_session.Session()._get_interface(app)
    return seen["config"]


quart_app = dict(Quart("configs").config)
configs = {
    "quart_0_18_app": quart_app,
    "quart_session_3_0": {**quart_app, **QUART_SESSION_3_0},
    "flask_2_2_app": dict(flask.Flask("configs").config),
    "flask_3_1_app": dict(FLASK_3_1),
    "flask_session_0_3_2": flask_session_0_3_2_config(),
    "flask_session_0_8": {**FLASK_3_1, **FLASK_SESSION_0_8},
}
print(json.dumps(configs, default=printable))
