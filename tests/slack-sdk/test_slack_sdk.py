"""Slack's official Python clients, unmodified, against Echo.

slack-sdk's WebClient is given Echo's base URL and a bot token; a stock slack-bolt app answers
app mentions through Echo's Events API. Run by scripts/slack-sdk.sh with ECHO_URL set.
"""

import json
import os
import socket
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

ECHO = os.environ.get("ECHO_URL", "http://127.0.0.1:8080").rstrip("/")


def echo(method, path, token=None, body=None):
    """One Echo API call: (status, JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(ECHO + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def register(name):
    email = f"{name.lower()}-{uuid.uuid4().hex}@example.test"
    status, body = echo("POST", "/api/v1/auth/register",
                        body={"email": email, "password": "correct horse battery staple", "display_name": name})
    assert status == 201, body
    return body["access_token"], body["user"]["id"], email


def wait_until(check, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlackClientsAgainstEcho(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.alice_token, cls.alice_id, cls.alice_email = register("Alice")
        status, ws = echo("POST", "/api/v1/workspaces", cls.alice_token, {"name": "Acme"})
        assert status == 201, ws
        cls.ws = ws["id"]
        status, channels = echo("GET", f"/api/v1/workspaces/{cls.ws}/channels", cls.alice_token)
        cls.general = next(c["id"] for c in channels["channels"] if c["name"] == "general")
        status, bot = echo("POST", f"/api/v1/workspaces/{cls.ws}/bots", cls.alice_token, {"name": "Helper"})
        assert status == 201, bot
        cls.bot = bot
        cls.client = WebClient(token=bot["token"], base_url=f"{ECHO}/slack/api/")
        cls.client.conversations_join(channel=cls.general)

    def test_auth_test_names_the_bot(self):
        me = self.client.auth_test()
        self.assertEqual(me["user_id"], self.bot["user_id"])
        self.assertEqual(me["bot_id"], self.bot["id"])
        self.assertEqual(me["team_id"], self.ws)

    def test_post_read_history_and_thread(self):
        posted = self.client.chat_postMessage(channel=self.general, text="release train leaves at 5")
        ts = posted["ts"]
        self.client.chat_postMessage(channel=self.general, text="I will be on it", thread_ts=ts)
        history = self.client.conversations_history(channel=self.general, limit=10)
        self.assertIn(ts, [m["ts"] for m in history["messages"]])
        parent = next(m for m in history["messages"] if m["ts"] == ts)
        self.assertEqual(parent["text"], "release train leaves at 5")
        self.assertEqual(parent["reply_count"], 1)
        replies = self.client.conversations_replies(channel=self.general, ts=ts)
        self.assertEqual([m["text"] for m in replies["messages"]], ["release train leaves at 5", "I will be on it"])
        updated = self.client.chat_update(channel=self.general, ts=ts, text="release train leaves at 6")
        self.assertEqual(updated["ts"], ts)
        with self.assertRaises(SlackApiError) as raised:
            self.client.chat_postMessage(channel="no-such-channel", text="x")
        self.assertEqual(raised.exception.response["error"], "channel_not_found")

    def test_react(self):
        ts = self.client.chat_postMessage(channel=self.general, text="ship it?")["ts"]
        self.client.reactions_add(channel=self.general, timestamp=ts, name="rocket")
        got = self.client.reactions_get(channel=self.general, timestamp=ts)
        self.assertEqual(got["message"]["reactions"][0]["name"], "rocket")
        self.client.reactions_remove(channel=self.general, timestamp=ts, name="rocket")
        with self.assertRaises(SlackApiError) as raised:
            self.client.reactions_remove(channel=self.general, timestamp=ts, name="rocket")
        self.assertEqual(raised.exception.response["error"], "no_reaction")

    def test_upload_a_file_with_files_upload_v2(self):
        content = "line one\nline two\n"
        done = self.client.files_upload_v2(channel=self.general, content=content, filename="notes.txt",
                                           title="notes.txt", initial_comment="meeting notes")
        file_id = done["file"]["id"]
        history = self.client.conversations_history(channel=self.general, limit=5)
        shared = next(m for m in history["messages"] if m.get("files"))
        self.assertEqual(shared["text"], "meeting notes")
        self.assertEqual(shared["files"][0]["id"], file_id)
        request = urllib.request.Request(shared["files"][0]["url_private"])
        request.add_header("Authorization", f"Bearer {self.bot['token']}")
        with urllib.request.urlopen(request, timeout=30) as response:
            self.assertEqual(response.read().decode(), content)

    def test_search(self):
        ts = self.client.chat_postMessage(channel=self.general, text="the zanzibar offsite is booked")["ts"]
        found = self.client.search_messages(query="zanzibar")
        self.assertEqual([m["ts"] for m in found["messages"]["matches"]], [ts])

    def test_lists_page_with_cursors(self):
        for name in ("alpha", "beta"):
            self.client.conversations_create(name=f"{name}-{uuid.uuid4().hex[:6]}")
        names = []
        for page in self.client.conversations_list(limit=1):
            names.extend(c["name"] for c in page["channels"])
        self.assertGreaterEqual(len(names), 3)
        self.assertIn("general", names)
        user = self.client.users_info(user=self.alice_id)["user"]
        self.assertEqual(user["real_name"], "Alice")

    def test_a_bolt_app_answers_a_mention(self):
        bolt_client = WebClient(token=self.bot["token"], base_url=f"{ECHO}/slack/api/")
        app = App(client=bolt_client, signing_secret=self.bot["signing_secret"])

        @app.event("app_mention")
        def answer(event, say):
            say(text=f"hello <@{event['user']}>, you said: {event['text']}", thread_ts=event["ts"])

        # The other events of its channels arrive too; this app has nothing to say about them.
        @app.event("message")
        @app.event("member_joined_channel")
        def ignore(ack):
            ack()

        port = free_port()
        threading.Thread(target=app.start, kwargs={"port": port, "http_server_logger_enabled": False}, daemon=True).start()
        url = f"http://127.0.0.1:{port}/slack/events"
        # Echo checks the URL with Slack's challenge, which bolt answers.
        status, body = wait_until(
            lambda: (lambda r: r if r[0] == 200 else None)(
                echo("PATCH", f"/api/v1/workspaces/{self.ws}/bots/{self.bot['id']}", self.alice_token, {"request_url": url})),
            "the bolt app to answer the challenge")
        self.assertEqual(body["request_url"], url)

        status, message = echo("POST", f"/api/v1/channels/{self.general}/messages", self.alice_token,
                               {"text": f"<@{self.bot['user_id']}> are you there?"})
        self.assertEqual(status, 201, message)

        def reply():
            status, page = echo("GET", f"/api/v1/messages/{message['id']}/replies", self.alice_token)
            return next((m for m in page["messages"] if m["author_id"] == self.bot["user_id"]), None)

        answer_message = wait_until(reply, "the bolt app's answer")
        self.assertIn(f"hello <@{self.alice_id}>", answer_message["text"])
        self.assertIn("are you there?", answer_message["text"])


if __name__ == "__main__":
    unittest.main()
