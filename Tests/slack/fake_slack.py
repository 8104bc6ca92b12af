#!/usr/bin/env python3
"""A faithful local fake of Slack's Web API and Socket Mode, for tests.

Web API methods answer with Slack's response shapes and errors (ok:false with an error code,
429 with Retry-After, 5xx, slow answers); Socket Mode speaks hello / envelopes / acks /
disconnect. Files go through Slack's current three-step upload (files.getUploadURLExternal, a POST
of the bytes to the upload URL this server hands out, files.completeUploadExternal); the retired
files.upload answers method_deprecated. Tests drive it through /_fake/... endpoints and read
uploaded files back with GET /_fake/file?id=F.... Slack's own slack_sdk is run against it
in test_fake_faithful.py to show it speaks the real protocol.

    python fake_slack.py --port 0      # prints "fake slack listening on PORT"
"""
import argparse
import asyncio
import itertools
import json
import time
import urllib.parse
import uuid

from aiohttp import web, WSMsgType

BOT_TOKEN_PREFIX = "xoxb-"
APP_TOKEN_PREFIX = "xapp-"
# Slack's upload service takes files up to 1 GB; the fake keeps them in memory, so it takes less.
MAX_UPLOAD = 64 << 20
# Slack documents that files.completeUploadExternal "can only be called once" without naming the
# error a second call gets: this name is the fake's own.
ALREADY_COMPLETED = "file_already_completed"


class FakeSlack:
    def __init__(self):
        self.calls = []          # every Web API call: {method, args, status, time}
        self.messages = {}       # (channel, ts) -> message
        self.views = {}
        self.triggers = {}       # trigger_id -> (created, used)
        self.faults = {}         # method -> list of fault dicts, consumed in order
        self.ts = itertools.count(1)
        self.sockets = []
        self.acks = []
        self.files = {}          # file_id -> upload state (see m_files_getUploadURLExternal)
        self.upload_urls = {}    # ticket -> file_id
        self.users = {
            "U_SRE": {"id": "U_SRE", "name": "rick", "real_name": "Rick Sanchez", "deleted": False, "is_bot": False,
                      "profile": {"display_name": "rick"}},
            "U_DEV": {"id": "U_DEV", "name": "morty", "real_name": "Morty Smith", "deleted": False, "is_bot": False,
                      "profile": {"display_name": "morty"}},
        }
        self.port = None

    # --- Web API -------------------------------------------------------------------------

    async def api(self, request):
        method = request.match_info["method"]
        args = dict(request.query)
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
            body = b""
        else:
            body = await request.read()
        if body:
            if content_type.startswith("application/json"):
                try:
                    args.update(json.loads(body))
                except ValueError:
                    return self.reply(method, args, {"ok": False, "error": "invalid_json"})
            else:
                args.update({k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()})
        token = request.headers.get("Authorization", "")[len("Bearer "):] or args.pop("token", "")
        fault = self.next_fault(method)
        if fault:
            if fault["mode"] == "slow":
                await asyncio.sleep(fault.get("seconds", 2))
            elif fault["mode"] == "429":
                self.calls.append({"method": method, "args": args, "status": 429, "time": time.time()})
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(fault.get("retry_after", 1))})
            elif fault["mode"] == "500":
                self.calls.append({"method": method, "args": args, "status": 500, "time": time.time()})
                return web.Response(status=500, text="internal error")
            elif fault["mode"] == "error":
                return self.reply(method, args, {"ok": False, "error": fault.get("error", "internal_error")})
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self.reply(method, args, {"ok": False, "error": "unknown_method"})
        if method == "apps.connections.open":
            if not token.startswith(APP_TOKEN_PREFIX):
                return self.reply(method, args, {"ok": False, "error": "not_allowed_token_type"})
        elif not token:
            return self.reply(method, args, {"ok": False, "error": "not_authed"})
        elif not token.startswith(BOT_TOKEN_PREFIX):
            return self.reply(method, args, {"ok": False, "error": "invalid_auth"})
        return self.reply(method, args, handler(args))

    def reply(self, method, args, payload):
        self.calls.append({"method": method, "args": args, "status": 200, "ok": payload.get("ok"), "time": time.time(),
                           "response": payload})
        return web.json_response(payload)

    def next_fault(self, method):
        queue = self.faults.get(method) or self.faults.get("*")
        if not queue:
            return None
        fault = queue[0]
        fault["count"] -= 1
        if fault["count"] <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def blocks_of(args):
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return None
        return blocks

    def m_auth_test(self, args):
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "mrmeeseeks",
                "team_id": "T0FAKE", "user_id": "UBOT", "bot_id": "BBOT"}

    def m_chat_postMessage(self, args):
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        blocks = self.blocks_of(args)
        if blocks is None and "blocks" in args:
            return {"ok": False, "error": "invalid_blocks_format"}
        if not args.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        if blocks and len(blocks) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        if len(args.get("text") or "") > 40000:
            return {"ok": False, "error": "msg_too_long"}
        ts = "1700000000.%06d" % next(self.ts)
        message = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "text": args.get("text", ""), "ts": ts,
                   "blocks": blocks or []}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def m_chat_update(self, args):
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = self.messages.get((channel, ts))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = self.blocks_of(args)
        if blocks is not None and len(blocks) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        if len(args.get("text") or "") > 4000:
            return {"ok": False, "error": "msg_too_long"}
        message["text"] = args.get("text", message["text"])
        message["blocks"] = blocks if blocks is not None else []
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def m_chat_postEphemeral(self, args):
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "channel_not_found" if not args.get("channel") else "user_not_in_channel"}
        return {"ok": True, "message_ts": "1700000000.%06d" % next(self.ts)}

    def m_views_open(self, args):
        trigger = args.get("trigger_id")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        entry = self.triggers.get(trigger)
        if entry is None or time.time() - entry["created"] > 3:
            return {"ok": False, "error": "trigger_expired"}
        if entry["used"]:
            return {"ok": False, "error": "trigger_exchanged"}
        entry["used"] = True
        view_id = "V%06d" % next(self.ts)
        stored = dict(view or {}, id=view_id, hash="h%d" % next(self.ts))
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def m_views_update(self, args):
        view_id = args.get("view_id")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        self.views[view_id] = dict(view, id=view_id)
        return {"ok": True, "view": self.views[view_id]}

    def m_users_info(self, args):
        user = self.users.get(args.get("user"))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def m_users_list(self, args):
        return {"ok": True, "members": list(self.users.values()), "response_metadata": {"next_cursor": ""}}

    def m_apps_connections_open(self, args):
        return {"ok": True, "url": "ws://127.0.0.1:%d/link/?ticket=%d" % (self.port, next(self.ts))}

    # --- Files: the three-step upload ----------------------------------------------------

    def m_files_upload(self, args):
        # Retired: Slack answers every files.upload with this error since the v2 flow replaced it.
        return {"ok": False, "error": "method_deprecated"}

    def m_files_getUploadURLExternal(self, args):
        filename = args.get("filename")
        try:
            length = int(args.get("length"))
        except (TypeError, ValueError):
            length = -1
        if not filename or length < 0:
            return {"ok": False, "error": "invalid_arguments"}
        if length > MAX_UPLOAD:
            return {"ok": False, "error": "file_upload_size_restricted"}
        file_id = "F%08d" % next(self.ts)
        ticket = uuid.uuid4().hex
        self.upload_urls[ticket] = file_id
        self.files[file_id] = {"id": file_id, "name": filename, "title": None, "length": length, "data": None,
                               "completed": False, "channel": None, "thread_ts": None, "initial_comment": None}
        return {"ok": True, "upload_url": "http://127.0.0.1:%d/upload/v1/%s" % (self.port, ticket), "file_id": file_id}

    async def upload(self, request):
        """The upload URL: the raw bytes, or a multipart form whose file part holds them."""
        file_id = self.upload_urls.get(request.match_info["ticket"])
        # The URL itself is the credential: a client has no reason to send its token along.
        record = {"method": "upload", "args": {"file_id": file_id, "authorization": "Authorization" in request.headers},
                  "time": time.time()}
        fault = self.next_fault("upload")
        if fault and fault["mode"] in ("500", "429"):
            self.calls.append(dict(record, status=int(fault["mode"])))
            return web.Response(status=int(fault["mode"]), text="upload failed",
                                headers={"Retry-After": str(fault.get("retry_after", 1))} if fault["mode"] == "429" else None)
        if fault and fault["mode"] == "slow":
            await asyncio.sleep(fault.get("seconds", 2))

        def answer(status, text):
            self.calls.append(dict(record, status=status, ok=status == 200))
            return web.Response(status=status, text=text)

        entry = self.files.get(file_id)
        if entry is None:
            return answer(404, "unknown upload URL")
        if entry["completed"]:
            return answer(400, "this upload is already completed")
        if request.headers.get("Content-Type", "").startswith("multipart/form-data"):
            data = None
            reader = await request.multipart()
            async for part in reader:
                if part.filename is not None or part.name in ("file", "filename"):
                    data = bytes(await part.read(decode=False))
                    break
            if data is None:
                return answer(400, "no file in the form")
        else:
            data = await request.read()
        record["args"]["length"] = len(data)
        if len(data) != entry["length"]:
            return answer(400, "length mismatch: %d bytes announced, %d received" % (entry["length"], len(data)))
        entry["data"] = data
        return answer(200, "OK - %d" % len(data))

    def m_files_completeUploadExternal(self, args):
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files) \
                or len({f["id"] for f in files}) != len(files):
            return {"ok": False, "error": "invalid_arguments"}
        channels = [args["channel_id"]] if args.get("channel_id") else [c for c in (args.get("channels") or "").split(",") if c]
        if args.get("thread_ts") and len(channels) != 1:
            # A thread lives in one channel: Slack asks for exactly one with thread_ts.
            return {"ok": False, "error": "invalid_arguments"}
        entries = []
        for f in files:
            entry = self.files.get(f["id"])
            if entry is None or entry["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            if entry["completed"]:
                return {"ok": False, "error": ALREADY_COMPLETED}
            entries.append((entry, f))
        for entry, f in entries:
            entry.update(completed=True, title=f.get("title") or entry["name"], channel=",".join(channels) or None,
                         thread_ts=args.get("thread_ts") or None, initial_comment=args.get("initial_comment") or None)
        for channel in channels:
            # Sharing posts a message carrying the files, in the thread when one is named; without
            # a channel the files stay private.
            ts = "1700000000.%06d" % next(self.ts)
            message = {"type": "message", "subtype": "file_share", "user": "UBOT", "bot_id": "BBOT", "ts": ts,
                       "text": args.get("initial_comment") or "", "blocks": [],
                       "files": [{"id": e["id"], "name": e["name"], "title": e["title"], "size": e["length"]} for e, _ in entries]}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self.messages[(channel, ts)] = message
        return {"ok": True, "files": [{"id": e["id"], "title": e["title"]} for e, _ in entries]}

    def file_state(self):
        return {k: {key: value for key, value in v.items() if key != "data"} for k, v in self.files.items()}

    # --- Socket Mode ---------------------------------------------------------------------

    async def link(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.sockets),
                            "connection_info": {"app_id": "A0FAKE"},
                            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600}})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if "envelope_id" in data:
                        self.acks.append(data)
        finally:
            if ws in self.sockets:
                self.sockets.remove(ws)
        return ws

    # --- Control -------------------------------------------------------------------------

    async def control(self, request):
        action = request.match_info["action"]
        if action == "file":
            # The bytes of an uploaded file, exactly as they arrived.
            entry = self.files.get(request.query.get("id", ""))
            if entry is None or entry["data"] is None:
                return web.json_response({"ok": False, "error": "no such file"}, status=404)
            return web.Response(body=entry["data"], content_type="application/octet-stream")
        body = await request.json() if request.can_read_body else {}
        if action == "calls":
            return web.json_response(self.calls)
        if action == "reset":
            self.calls.clear()
            self.acks.clear()
            return web.json_response({"ok": True})
        if action == "faults":
            self.faults.setdefault(body["method"], []).append(dict(body))
            return web.json_response({"ok": True})
        if action == "add_user":
            self.users[body["id"]] = dict({"deleted": False, "is_bot": False}, **body)
            return web.json_response({"ok": True})
        if action == "clear_faults":
            self.faults.clear()
            return web.json_response({"ok": True})
        if action == "trigger":
            trigger = "%d.%d.fake" % (time.time(), next(self.ts))
            self.triggers[trigger] = {"created": time.time(), "used": False}
            return web.json_response({"trigger_id": trigger})
        if action == "send":
            envelope = dict(body)
            for ws in list(self.sockets)[:1]:
                await ws.send_json(envelope)
            return web.json_response({"ok": True, "sockets": len(self.sockets)})
        if action == "disconnect":
            for ws in list(self.sockets):
                await ws.send_json({"type": "disconnect", "reason": body.get("reason", "refresh_requested"),
                                    "debug_info": {"host": "applink-fake"}})
            return web.json_response({"ok": True})
        if action == "drop":
            for ws in list(self.sockets):
                await ws.close()
            return web.json_response({"ok": True})
        if action == "state":
            return web.json_response({"sockets": len(self.sockets), "acks": self.acks,
                                      "messages": {"%s/%s" % k: v for k, v in self.messages.items()},
                                      "views": self.views, "files": self.file_state()})
        return web.json_response({"ok": False, "error": "unknown control"}, status=404)


async def start(port=0):
    fake = FakeSlack()
    app = web.Application(client_max_size=MAX_UPLOAD + (1 << 20))
    app.router.add_post("/api/{method}", fake.api)
    app.router.add_post("/upload/v1/{ticket}", fake.upload)
    app.router.add_get("/link/", fake.link)
    app.router.add_route("*", "/_fake/{action}", fake.control)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    fake.port = site._server.sockets[0].getsockname()[1]
    return fake, runner


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def serve():
        fake, _ = await start(args.port)
        print("fake slack listening on %d" % fake.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
