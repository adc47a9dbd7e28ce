"""A replay stand-in: an OpenAI-compatible chat endpoint on 127.0.0.1 that answers every question of a
release with the reply a real model (SmolLM2) gave to `benchmint eval`'s grading path, so lm-eval, inspect
and benchmint grade the same replies. It is no model: it finds which question a prompt asks (the line after
`Question: ` or `Statement: `) and replays the recorded reply for it.

- a multiple-choice reply is replayed as the letter of the choice benchmint read from it, in the order the
  asking tool shows the choices (benchmint shuffles them per model; the tools show the release's order);
  a reply in which benchmint found no choice is replayed as written;
- a grader's request (inspect's model_graded_qa with benchmint's judge rubric: it holds `Reference answer:`)
  gets benchmint's judge verdict for that question as the rubric's JSON, or, where benchmint's panel gave
  none, a reply with no verdict;
- a `stop` sequence cuts the reply, as a server would.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

from tests.endpoint_standin import HttpStandIn, QuietHandler


@dataclass
class Replay:
    reply: str
    choice: str | None = None  # mcq: the text of the choice benchmint read from the reply
    verdict: bool | None = None  # open: benchmint's judge verdict (None: not judged, or no verdict)


class ReplayStandIn(HttpStandIn):
    def __init__(self, replays: dict[str, Replay]):
        self.replays = replays  # by question text
        self.asked: list[str] = []  # question texts asked, in order ("grader:" before a grader's)
        self.unknown: list[str] = []  # prompts naming no recorded question
        outer = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                self.send_body(200, json.dumps(outer.complete(body)).encode())

            def do_GET(self):  # noqa: N802 - /v1/models
                models = {"object": "list", "data": [{"id": "replay", "object": "model"}]}
                self.send_body(200, json.dumps(models).encode())

        self._listen(Handler)
        self._lock = threading.Lock()

    def text_for(self, prompt: str) -> str:
        grader = re.search(r"^Question: (.*)\nReference answer:", prompt, re.M)
        if grader:
            r = self.replays.get(grader.group(1).strip())
            self._note("grader:" + grader.group(1).strip(), r)
            if r is None or r.verdict is None:
                return "I cannot tell."
            return json.dumps({"reason": "benchmint's judge verdict, replayed", "verdict": r.verdict})
        asked = [m.strip() for m in re.findall(r"^(?:Question|Statement): (.*)$", prompt, re.M)]
        key = next((q for q in reversed(asked) if q in self.replays), None)
        r = self.replays.get(key) if key else None
        self._note(key or prompt, r)
        if r is None:
            return ""
        if r.choice is None:
            return r.reply
        return self._letter(prompt, r)

    @staticmethod
    def _letter(prompt: str, r: Replay) -> str:
        shown = {text.strip(): letter for letter, text in re.findall(r"^([A-D])[.)] (.*)$", prompt, re.M)}
        return shown.get(r.choice or "", r.reply)

    def _note(self, key: str, r: Replay | None) -> None:
        with self._lock:
            (self.asked if r is not None else self.unknown).append(key[:200])

    def complete(self, body: dict) -> dict:
        messages = body.get("messages") or []
        prompt = "\n".join(m["content"] if isinstance(m.get("content"), str)
                           else "".join(p.get("text", "") for p in m.get("content") or []) for m in messages)
        text = self.text_for(prompt)
        stops = body.get("stop") or []
        for s in [stops] if isinstance(stops, str) else stops:
            if s and s in text:
                text = text[: text.index(s)]
        return {"id": f"replay-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "replay"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()),
                          "total_tokens": len(prompt.split()) + len(text.split())}}

