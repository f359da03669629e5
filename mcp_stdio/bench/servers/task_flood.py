"""Starts thousands of sampling tasks on the client, and tasks that outlive their ttl; reports what the client keeps."""

# tools/call "flood" {"count": N, "ttl": ms}: N task-augmented sampling/createMessage
# requests, then tasks/list; answered with {"created", "refused", "listed"} as JSON text.
# tools/call "expire": one task with a ttl of 50 ms; once finished and 0.3 s later,
# tasks/get and tasks/list about it; answered with {"get", "listed"} as JSON text.

import json
import threading
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, init_result, messages, result, send  # noqa: E402

incoming = messages()
SAMPLE = {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5}


def request(msg_id, method, params):
    return (json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}) + "\n").encode()


def wait_for(ids):
    """Read until every id of ``ids`` is answered; return the answers by id."""
    answers = {}
    for message in incoming:
        if "method" not in message and message.get("id") in ids:
            answers[message["id"]] = message
            if len(answers) == len(ids):
                break
    return answers


def text(msg_id, value):
    return result(msg_id, {"content": [{"type": "text", "text": json.dumps(value)}]})


for message in incoming:
    method = message.get("method")
    if method == "initialize":
        send(init_result(message["id"]))
    elif method == "tools/call" and message["params"]["name"] == "flood":
        args = message["params"]["arguments"]
        ids = [f"t{i}" for i in range(args["count"])]
        chunk = b"".join(request(i, "sampling/createMessage", dict(SAMPLE, task={"ttl": args["ttl"]})) for i in ids)
        # From a thread: the answers are read meanwhile, so that no pipe fills up.
        threading.Thread(target=send, args=(chunk, True), daemon=True).start()
        answers = wait_for(set(ids))
        refused: dict = {}
        for answer in answers.values():
            if "error" in answer:
                key = answer["error"]["message"]
                refused[key] = refused.get(key, 0) + 1
        send(request("list", "tasks/list", {}), raw=True)
        listed = wait_for({"list"})["list"].get("result", {}).get("tasks", [])
        send(text(message["id"], {"created": len(answers) - sum(refused.values()), "refused": refused,
                                  "listed": len(listed)}))
    elif method == "tools/call" and message["params"]["name"] == "expire":
        send(request("e", "sampling/createMessage", dict(SAMPLE, task={"ttl": 50})), raw=True)
        task_id = wait_for({"e"})["e"]["result"]["task"]["taskId"]
        while True:  # until the task finished (its ttl counts from then on at the latest)
            send(request("g", "tasks/get", {"taskId": task_id}), raw=True)
            if wait_for({"g"})["g"]["result"]["status"] != "working":
                break
        time.sleep(0.3)
        send(request("g2", "tasks/get", {"taskId": task_id}) + request("l2", "tasks/list", {}), raw=True)
        answers = wait_for({"g2", "l2"})
        listed = [task["taskId"] for task in answers["l2"].get("result", {}).get("tasks", [])]
        send(text(message["id"], {"get": answers["g2"].get("error") or answers["g2"].get("result"),
                                  "listed": task_id in listed}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
