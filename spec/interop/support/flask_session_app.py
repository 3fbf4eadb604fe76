"""A Flask app on Debian's Flask-Session (0.3.2, python3-flask-session) and Redis, for the interop specs.

By default it is set up to share sessions with koa-qsession: the one line after Session(app)
swaps Flask-Session's pickle serializer for Flask's TaggedJSONSerializer. With --pickle it keeps
Flask-Session's default, which koa-qsession cannot read (and must leave alone).

Usage: flask_session_app.py --port N --redis URL [--pickle]
"""
import argparse
import json
import uuid
from datetime import datetime, timezone

import redis
from flask import Flask, Response, session
from flask.json.tag import TaggedJSONSerializer
from flask_session import Session
from markupsafe import Markup
from werkzeug.serving import make_server

REF = uuid.UUID("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8")
EXPECTED = {
    "user_id": 42,
    "cart": ("sku-1", 2),
    "token": b"\x00\xff",
    "ref": REF,
    "note": Markup("<b>hi</b>"),
    "ratio": 1.0,
    "big": 2**64,
    "prefs": {"theme": "dark", "tags": ["a", "b"]},
}


def create_app(args):
    app = Flask(__name__)
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(args.redis),
        PERMANENT_SESSION_LIFETIME=3600,
    )
    Session(app)
    if not args.pickle:
        # Flask-Session 0.3.2 - 0.6 call serializer.dumps / .loads: Flask's own tagged JSON fits as is.
        app.session_interface.serializer = TaggedJSONSerializer()

    @app.route("/login")
    def login():
        session.update(EXPECTED)
        session["login_at"] = datetime.now(timezone.utc)
        return "logged in"

    @app.route("/whoami")
    def whoami():
        if "user_id" not in session:
            return Response("anonymous", status=401)
        elapsed = datetime.now(timezone.utc) - session["login_at"]
        wrong = {key: repr(session.get(key)) for key, value in EXPECTED.items() if session.get(key) != value or type(session.get(key)) is not type(value)}
        if wrong:
            return Response(json.dumps({"wrong": wrong}), status=409, content_type="application/json")
        others = {k: v for k, v in session.items() if k not in EXPECTED and k not in ("login_at", "_permanent")}
        body = {"user_id": session["user_id"], "elapsed_ok": elapsed.total_seconds() >= 0, "others": others}
        return Response(json.dumps(body), content_type="application/json")

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--pickle", action="store_true")
    args = parser.parse_args()
    server = make_server("127.0.0.1", args.port, create_app(args), threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
