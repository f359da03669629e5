"""A legacy server that silently ignores requests it does not know (server/discover)."""

from _common import answer_default, messages, send

for message in messages():
    if message.get("method") not in ("initialize", "notifications/initialized", "ping", "tools/call", "tools/list"):
        continue
    reply = answer_default(message)
    if reply is not None:
        send(reply)
