"""A Quart app that keeps its sessions the way Quart-Session 3.0 does, for the interop specs.

Quart-Session is not packaged in Debian, so this file does what its RedisSessionInterface does
(see /work/shared/spec/quart-session-behaviour.md), on Debian's python3-quart and python3-redis:

- ids are str(uuid4()); the store key is SESSION_KEY_PREFIX + id;
- every NEW session gets `_addr`, pinning on or off: request.remote_addr, or in proxy mode the raw
  X-Forwarded-For text (no `_addr` when that header is missing);
- the value is the tagged JSON of the session dict through Quart's own TaggedJSONSerializer;
- an entry that does not decode gives a fresh session with a new id, and is left in the store;
- with protection on, a stored `_addr` that differs from the request's DELETEs the entry;
- saves only a modified session, with SETEX and PERMANENT_SESSION_LIFETIME as the TTL (a blind
  write: no compare-and-set); an emptied session is deleted and its cookie cleared.

Usage: quart_session_app.py --port N --redis URL [--proxy] [--protection]
Prints "ready" once it listens.
"""
import argparse
import asyncio
import json
import uuid
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from hypercorn.asyncio import serve
from hypercorn.config import Config
from markupsafe import Markup
from quart import Quart, Response, request, session
from quart.json.tag import TaggedJSONSerializer
from quart.sessions import SecureCookieSession, SessionInterface

REF = uuid.UUID("b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8")


class ServerSideSession(SecureCookieSession):
    def __init__(self, initial=None, sid=None, permanent=None, addr=None):
        super().__init__(initial or {})
        self.sid = sid
        if permanent:
            self.permanent = permanent
        if addr:
            self["_addr"] = addr
        self.modified = False


class QuartSessionLikeInterface(SessionInterface):
    serializer = TaggedJSONSerializer()

    def __init__(self, url, prefix, proxy, protection):
        self.url = url
        self.prefix = prefix
        self.proxy = proxy
        self.protection = protection
        self.redis = None

    async def open_session(self, app, request):
        if self.redis is None:
            self.redis = aioredis.from_url(self.url, decode_responses=True)
        sid = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        addr = request.headers.get("X-Forwarded-For") if self.proxy else request.remote_addr

        def fresh():
            return ServerSideSession(sid=str(uuid.uuid4()), permanent=True, addr=addr)

        if not sid:
            return fresh()
        value = await self.redis.get(self.prefix + sid)
        if value is None:
            return fresh()
        try:
            data = self.serializer.loads(value)
        except Exception:
            return fresh()  # the entry is left alone
        if self.protection and addr is not None and data.get("_addr", addr) != addr:
            await self.redis.delete(self.prefix + sid)
            return fresh()
        return ServerSideSession(data, sid)

    async def save_session(self, app, session, response):
        if not session.modified:
            return
        name = app.config["SESSION_COOKIE_NAME"]
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        key = self.prefix + session.sid
        if not session:
            await self.redis.delete(key)
            response.delete_cookie(name, domain=domain, path=path)
            return
        value = self.serializer.dumps(dict(session))
        ttl = int(app.permanent_session_lifetime.total_seconds())
        await self.redis.setex(key, ttl, value)
        response.set_cookie(
            name,
            session.sid,
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )


# What /login stores, and the Python type each value must come back with.
EXPECTED_TYPES = {
    "user_id": int,
    "login_at": datetime,
    "cart": tuple,
    "token": bytes,
    "ref": uuid.UUID,
    "note": Markup,
    "ratio": float,
    "big": int,
    "prefs": dict,
}


def create_app(args):
    app = Quart(__name__)
    app.config.update(SESSION_COOKIE_NAME="session", PERMANENT_SESSION_LIFETIME=timedelta(seconds=args.lifetime))
    app.session_interface = QuartSessionLikeInterface(args.redis, "session:", args.proxy, args.protection)

    @app.route("/login")
    async def login():
        session["user_id"] = 42
        session["login_at"] = datetime.utcnow()  # naive, as most Quart apps write it
        session["cart"] = ("sku-1", 2)
        session["token"] = b"\x00\xff"
        session["ref"] = REF
        session["note"] = Markup("<b>hi</b>")
        session["ratio"] = 1.0
        session["big"] = 2**64
        session["prefs"] = {"theme": "dark", "tags": ["a", "b"]}
        return "logged in"

    @app.route("/whoami")
    async def whoami():
        if "user_id" not in session:
            return Response("anonymous", status=401)
        # Raises TypeError (a 500) if login_at came back as an aware datetime.
        elapsed = datetime.utcnow() - session["login_at"]
        wrong = {
            key: type(session.get(key)).__name__
            for key, kind in EXPECTED_TYPES.items()
            if not isinstance(session.get(key), kind)
        }
        if session["login_at"].tzinfo is not None:
            wrong["login_at"] = "aware datetime"
        if wrong:
            return Response(json.dumps({"wrong_types": wrong}), status=409, content_type="application/json")
        values_ok = (
            session["cart"] == ("sku-1", 2)
            and session["token"] == b"\x00\xff"
            and session["ref"] == REF
            and session["note"] == Markup("<b>hi</b>")
            and session["ratio"] == 1.0
            and session["big"] == 2**64
            and session["prefs"] == {"theme": "dark", "tags": ["a", "b"]}
        )
        if not values_ok:
            return Response("values changed", status=409)
        body = {
            "user_id": session["user_id"],
            "elapsed_ok": elapsed.total_seconds() >= 0,
            "others": {k: v for k, v in session.items() if k not in EXPECTED_TYPES and not k.startswith("_")},
        }
        return Response(json.dumps(body), content_type="application/json")

    @app.route("/since-login")
    async def since_login():
        # The arithmetic a Quart 0.18 app does with its own naive UTC datetimes: a TypeError (a 500)
        # when login_at comes back aware. Nothing else is read.
        if "login_at" not in session:
            return Response("anonymous", status=401)
        try:
            elapsed = datetime.utcnow() - session["login_at"]
        except TypeError as error:  # what the app's own error handler would turn into a 500
            return Response(f"TypeError: {error}", status=500)
        body = {"seconds": elapsed.total_seconds(), "login_at": session["login_at"].isoformat(timespec="microseconds")}
        return Response(json.dumps(body), content_type="application/json")

    @app.route("/user")
    async def user():
        # Who is logged in, without reading any other value.
        if "user_id" not in session:
            return Response("anonymous", status=401)
        return Response(json.dumps({"user_id": session["user_id"]}), content_type="application/json")

    @app.route("/logout")
    async def logout():
        session.clear()
        return "bye"

    return app


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--proxy", action="store_true")
    parser.add_argument("--protection", action="store_true")
    parser.add_argument("--lifetime", type=int, default=3600)
    args = parser.parse_args()
    config = Config()
    config.bind = [f"127.0.0.1:{args.port}"]
    config.accesslog = None
    config.errorlog = "-"
    print("ready", flush=True)
    await serve(create_app(args), config)


if __name__ == "__main__":
    asyncio.run(main())
