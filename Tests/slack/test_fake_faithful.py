"""Slack's own SDK against the fake: proof that the fake speaks Slack's protocol."""
import time
import unittest

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.signature import SignatureVerifier

from harness import Fake, http


class FakeIsFaithful(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake()
        cls.client = WebClient(token="xoxb-test", base_url=cls.fake.url + "/api/")

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def test_post_and_update(self):
        posted = self.client.chat_postMessage(channel="C1", text="hi", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}])
        self.assertTrue(posted["ok"])
        updated = self.client.chat_update(channel="C1", ts=posted["ts"], text="bye")
        self.assertEqual(updated["text"], "bye")

    def test_errors_are_ok_false(self):
        with self.assertRaises(SlackApiError) as caught:
            self.client.chat_update(channel="C1", ts="1.2", text="x")
        self.assertEqual(caught.exception.response["error"], "message_not_found")
        with self.assertRaises(SlackApiError) as caught:
            self.client.users_info(user="U_NOBODY")
        self.assertEqual(caught.exception.response["error"], "user_not_found")
        with self.assertRaises(SlackApiError) as caught:
            self.client.chat_postMessage(channel="C1")
        self.assertEqual(caught.exception.response["error"], "no_text")
        with self.assertRaises(SlackApiError) as caught:
            WebClient(token="", base_url=self.fake.url + "/api/").auth_test()
        self.assertEqual(caught.exception.response["error"], "not_authed")

    def test_users_info(self):
        self.assertEqual(self.client.users_info(user="U_SRE")["user"]["name"], "rick")

    def test_rate_limit_with_retry_after(self):
        self.fake.control("faults", {"method": "chat.postMessage", "mode": "429", "count": 2, "retry_after": 1})
        client = WebClient(token="xoxb-test", base_url=self.fake.url + "/api/",
                           retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)])
        started = time.time()
        self.assertTrue(client.chat_postMessage(channel="C1", text="after the storm")["ok"])
        self.assertGreaterEqual(time.time() - started, 2.0)

    def test_trigger_rules(self):
        trigger = self.fake.control("trigger")["trigger_id"]
        view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
        self.assertTrue(self.client.views_open(trigger_id=trigger, view=view)["ok"])
        with self.assertRaises(SlackApiError) as caught:
            self.client.views_open(trigger_id=trigger, view=view)
        self.assertEqual(caught.exception.response["error"], "trigger_exchanged")

    def test_socket_mode_hello_envelope_ack(self):
        client = SocketModeClient(app_token="xapp-test", web_client=WebClient(token="xoxb-test", base_url=self.fake.url + "/api/"))
        received = []

        def listener(c, req):
            received.append(req)
            c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

        client.socket_mode_request_listeners.append(listener)
        client.connect()
        deadline = time.time() + 10
        while self.fake.control("state")["sockets"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        self.fake.control("send", {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                                   "payload": {"type": "event_callback", "event": {"type": "app_mention", "text": "hi"}}})
        while not self.fake.control("state")["acks"] and time.time() < deadline:
            time.sleep(0.05)
        client.close()
        self.assertEqual(received[0].type, "events_api")
        self.assertEqual(self.fake.control("state")["acks"][0]["envelope_id"], "env-1")

    # Files: slack_sdk's files_upload_v2 runs the three steps (files.getUploadURLExternal, a POST
    # of the bytes to upload_url, files.completeUploadExternal) against the fake.

    def test_files_upload_v2_shares_the_bytes_in_a_thread(self):
        parent = self.client.chat_postMessage(channel="C1", text="the result")
        content = b"".join(b"line %d\n" % n for n in range(60000)) + bytes(range(256))
        done = self.client.files_upload_v2(channel="C1", thread_ts=parent["ts"], content=content, filename="job-1.txt",
                                           title="Job 1 output", initial_comment="the whole output")
        file_id = done["file"]["id"]
        self.assertEqual(done["file"]["title"], "Job 1 output")
        self.assertEqual(self.fake.file(file_id), content)
        kept = self.fake.files()[file_id]
        self.assertEqual((kept["name"], kept["length"], kept["completed"], kept["channel"], kept["thread_ts"]),
                         ("job-1.txt", len(content), True, "C1", parent["ts"]))
        shares = [m for m in self.fake.control("state")["messages"].values() if m.get("subtype") == "file_share"
                  and m["files"][0]["id"] == file_id]
        self.assertEqual([(m["thread_ts"], m["text"]) for m in shares], [(parent["ts"], "the whole output")])
        # The upload itself is one POST of the raw bytes, without the token: the URL is the credential.
        upload = [c for c in self.fake.control("calls") if c["method"] == "upload" and c["args"]["file_id"] == file_id]
        self.assertEqual([(c["status"], c["args"]["length"], c["args"]["authorization"]) for c in upload],
                         [(200, len(content), False)])

    def test_a_completed_file_cannot_be_completed_again(self):
        file_id = self.client.files_upload_v2(channel="C1", content="once", filename="once.txt")["file"]["id"]
        with self.assertRaises(SlackApiError) as caught:
            self.client.files_completeUploadExternal(files=[{"id": file_id, "title": "again"}], channel_id="C1")
        self.assertEqual(caught.exception.response["error"], "file_already_completed")

    def test_unknown_file_ids_are_refused(self):
        with self.assertRaises(SlackApiError) as caught:
            self.client.files_completeUploadExternal(files=[{"id": "F_NOPE", "title": "x"}], channel_id="C1")
        self.assertEqual(caught.exception.response["error"], "file_not_found")

    def test_the_length_must_match(self):
        ticket = self.client.files_getUploadURLExternal(filename="short.txt", length=10)
        status, text, _ = http("POST", ticket["upload_url"], b"12345")
        self.assertEqual(status, 400, text)
        # Nothing arrived, so there is nothing to complete.
        with self.assertRaises(SlackApiError) as caught:
            self.client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id="C1")
        self.assertEqual(caught.exception.response["error"], "file_not_found")
        with self.assertRaises(SlackApiError) as caught:
            self.client.api_call("files.getUploadURLExternal", params={"filename": "no-length.txt"})
        self.assertEqual(caught.exception.response["error"], "invalid_arguments")

    def test_the_upload_may_be_a_multipart_form(self):
        content = bytes(range(256)) * 4
        ticket = self.client.files_getUploadURLExternal(filename="form.bin", length=len(content))
        boundary = "----meeseeks-test-boundary"
        body = (("--%s\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"form.bin\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n" % boundary).encode() + content
                + ("\r\n--%s--\r\n" % boundary).encode())
        status, text, _ = http("POST", ticket["upload_url"], body, {"Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(status, 200, text)
        self.client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "form"}], channel_id="C1")
        self.assertEqual(self.fake.file(ticket["file_id"]), content)

    def test_files_upload_is_retired(self):
        for kwargs in ({"content": "x"}, {"file": b"x", "filename": "x.txt"}):
            with self.assertRaises(SlackApiError) as caught:
                self.client.files_upload(channels="C1", **kwargs)
            self.assertEqual(caught.exception.response["error"], "method_deprecated")

    def test_documentation_signature_vector(self):
        body = ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
                "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
                "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
                "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
        signature = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").generate_signature(timestamp="1531420618", body=body)
        self.assertEqual(signature, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")


if __name__ == "__main__":
    unittest.main()
