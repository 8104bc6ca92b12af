"""Long results as files: the real `meeseeks serve` shares a job's whole output through Slack's
three-step upload, in the result's thread, after the result message; short results attach nothing."""
import json
import os
import re
import signal
import time
import unittest
import urllib.request

from harness import API_TOKEN, POLICY, Box, Fake, blocks_of, check_blocks, config_dir, http, text_of

CHANNEL = "C0OPS"

# A megabyte of 'x' and a newline: 1,000,001 bytes.
MEGABYTE = r"""name: megabyte
summary: Print a megabyte
run: [/bin/sh, -c, "head -c 1000000 /dev/zero | tr '\\0' 'x'; echo"]
"""

SHORT = """name: short
summary: Print a line
run: ["/bin/echo", "short and sweet"]
"""

FILES = {"commands.d/megabyte.yaml": MEGABYTE, "commands.d/short.yaml": SHORT, "policies.d/p.yaml": POLICY,
         "meeseeks.yaml": "jobs: {output_limit: 2097152}\n"}

UPLOAD_STEPS = ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")


def api_output(box, job):
    """The job's output as the box's API serves it, page by page."""
    data, offset = b"", 0
    while True:
        req = urllib.request.Request("%s/api/v1/jobs/%s/output?offset=%d" % (box.url, job, offset),
                                     headers={"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            page = resp.read()
            next_offset = int(resp.headers["X-Meeseeks-Next-Offset"])
        if not page:
            return data
        data += page
        offset = next_offset


class LongResultsAsFiles(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.config = config_dir(FILES)
        self.db = os.path.join(self.config, "state.db")
        self.box = Box(self.config, self.fake, db=self.db)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def mention(self, text, ts):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> " + text, "ts": ts, "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)

    def result_of(self, needle, timeout=60):
        """The delivered result message whose text holds `needle`, and its job id."""
        calls = self.fake.wait_calls(lambda calls: any(needle in text_of(c) and "All done" in text_of(c) for c in calls
                                                       if c["method"] == "chat.postMessage" and c.get("ok")),
                                     timeout=timeout, what="the result of " + needle)
        result = [c for c in calls if c["method"] == "chat.postMessage" and c.get("ok") and needle in text_of(c)
                  and "All done" in text_of(c)][-1]
        return result, re.search(r"#(\d+)", text_of(result)).group(1)

    def shared(self, timeout=60):
        calls = self.fake.wait_calls(lambda calls: any(c["method"] == "files.completeUploadExternal" and c.get("ok") for c in calls),
                                     timeout=timeout, what="the file shared")
        return [c for c in calls if c["method"] == "files.completeUploadExternal" and c.get("ok")][-1]

    def test_a_megabyte_of_output_arrives_whole_as_a_file_in_the_thread(self):
        self.mention("megabyte", "8.1")
        result, job = self.result_of("megabyte")
        complete = self.shared()
        # The message shows the end of the output and says the rest follows.
        self.assertEqual(result["args"]["thread_ts"], "8.1")
        self.assertIn("follows as a file", text_of(result))
        self.assertIn("xxxxxxxxxx", text_of(result))
        check_blocks(blocks_of(result))
        # Then the three steps, in order, after the result message.
        calls = self.fake.control("calls")
        order = [c["method"] for c in calls if c["method"] in ("chat.postMessage",) + UPLOAD_STEPS and c.get("ok")]
        tail = order[order.index("files.getUploadURLExternal") - 1:]
        self.assertEqual(tail, ["chat.postMessage"] + list(UPLOAD_STEPS))
        self.assertIn("All done", text_of([c for c in calls if c["method"] == "chat.postMessage" and c.get("ok")][-1]))
        # Shared in the same thread of the same channel, under a name that says which job.
        files = json.loads(complete["args"]["files"])
        self.assertEqual((complete["args"]["channel_id"], complete["args"]["thread_ts"]), (CHANNEL, "8.1"))
        file_id = files[0]["id"]
        kept = self.fake.files()[file_id]
        self.assertEqual((kept["name"], kept["completed"], kept["thread_ts"]), ("job-%s-output.txt" % job, True, "8.1"))
        self.assertIn("#%s" % job, kept["title"])
        # Byte for byte what the box's API serves, which is what the job printed.
        uploaded = self.fake.file(file_id)
        served = api_output(self.box, job)
        self.assertEqual(len(served), 1000001)
        self.assertEqual(uploaded, served)
        self.assertEqual(uploaded, b"x" * 1000000 + b"\n")
        # The upload URL got the bytes without the bot token; one upload for one result.
        uploads = [c for c in calls if c["method"] == "upload"]
        self.assertEqual([(c["status"], c["args"]["length"], c["args"]["authorization"]) for c in uploads], [(200, 1000001, False)])
        time.sleep(1)
        self.assertEqual(len([c for c in self.fake.control("calls") if c["method"] == "files.getUploadURLExternal"]), 1)

    def test_a_short_result_uploads_nothing(self):
        self.mention("short", "8.2")
        result, _ = self.result_of("short and sweet")
        self.assertNotIn("follows as a file", text_of(result))
        time.sleep(1.5)
        self.assertEqual([c for c in self.fake.control("calls") if c["method"].startswith("files.") or c["method"] == "upload"], [])

    def test_a_refused_upload_is_logged_and_the_channel_goes_on(self):
        self.fake.control("faults", {"method": "files.getUploadURLExternal", "mode": "error", "error": "file_uploads_disabled",
                                     "count": 1})
        self.mention("megabyte", "8.3")
        self.result_of("megabyte")
        self.fake.wait_calls(lambda calls: any(c["method"] == "files.getUploadURLExternal" for c in calls), what="the refusal")
        self.mention("short", "8.4")
        self.result_of("short and sweet")
        self.assertEqual([c for c in self.fake.control("calls") if c["method"] in ("upload", "files.completeUploadExternal")], [])
        self.box.spawned.wait_line("could not be shared as a file", stream="err")
        status, metrics, _ = http("GET", self.box.url + "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics, r'meeseeks_slack_uploads_total\{outcome="refused"\} 1')

    def test_server_errors_are_retried_until_the_file_is_shared(self):
        self.fake.control("faults", {"method": "upload", "mode": "500", "count": 2})
        self.fake.control("faults", {"method": "files.completeUploadExternal", "mode": "429", "count": 1, "retry_after": 1})
        self.mention("megabyte", "8.5")
        _, job = self.result_of("megabyte")
        complete = self.shared()
        file_id = json.loads(complete["args"]["files"])[0]["id"]
        self.assertEqual(self.fake.file(file_id), api_output(self.box, job))
        # A retry starts over with a new upload URL: two refused uploads, one whose completion was
        # rate limited, then the one that is shared. Each attempt that failed left its file
        # uncompleted (Slack discards those); only one file is shared.
        uploads = [c["status"] for c in self.fake.control("calls") if c["method"] == "upload"]
        self.assertEqual(uploads, [500, 500, 200, 200])
        self.assertEqual(len([f for f in self.fake.files().values() if f["completed"]]), 1)

    def test_a_queued_upload_survives_a_restart(self):
        self.fake.control("faults", {"method": "files.getUploadURLExternal", "mode": "500", "count": 100000})
        self.mention("megabyte", "8.6")
        _, job = self.result_of("megabyte")
        self.fake.wait_calls(lambda calls: len([c for c in calls if c["method"] == "files.getUploadURLExternal"]) >= 2,
                             what="failed upload attempts")
        self.box.stop(signal.SIGKILL)
        self.fake.control("clear_faults")
        self.box = Box(self.config, self.fake, db=self.db)
        complete = self.shared()
        file_id = json.loads(complete["args"]["files"])[0]["id"]
        self.assertEqual((complete["args"]["thread_ts"]), "8.6")
        self.assertEqual(self.fake.file(file_id), api_output(self.box, job))


class FilesOutsideAThread(unittest.TestCase):
    """A slash command has no thread: the file goes to the thread of the result message."""

    def test_the_file_joins_the_result_message(self):
        fake = Fake()
        box = Box(config_dir(FILES), fake)
        try:
            body = "command=%2Fmeeseeks&text=megabyte&user_id=U_SRE&channel_id=C0OPS&response_url=http%3A%2F%2Fx&trigger_id=1.2"
            self.assertEqual(box.signed("/slack/commands", body, "application/x-www-form-urlencoded")[0], 200)
            calls = fake.wait_calls(lambda calls: any(c["method"] == "files.completeUploadExternal" and c.get("ok") for c in calls),
                                    timeout=60, what="the file shared")
            result = [c for c in calls if c["method"] == "chat.postMessage" and c.get("ok") and "All done" in text_of(c)][-1]
            self.assertNotIn("thread_ts", result["args"])
            complete = [c for c in calls if c["method"] == "files.completeUploadExternal"][-1]
            self.assertEqual(complete["args"]["thread_ts"], result["response"]["ts"])
        finally:
            box.stop()
            fake.stop()


if __name__ == "__main__":
    unittest.main()
