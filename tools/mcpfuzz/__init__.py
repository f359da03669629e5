"""The structure-aware fuzzers of ``tools/fuzz.py`` (issue 11, "Proof").

* :mod:`.values`: a JSON writer that can write what ``json`` refuses (NaN, ``1e999``,
  duplicate keys, deep nesting), hostile values and ids, valid instances of any definition
  of the shipped MCP schemas, and mutations of them (one field of the wrong type...).
* :mod:`.client_target`: the whole :class:`mcp_stdio.Client` against a scripted peer
  (in memory, or a child process: :mod:`.scripted_server`) that sends mutated server
  messages; its plans are in :mod:`.client_plan`, its peer in :mod:`.client_peer`.
* :mod:`.server_target`: the reference server, as a child process, fed mutated client
  messages; its plans are in :mod:`.server_plan`.
* :mod:`.common`: findings, the loop-lag ticker, the log and exception recorders, JSON
  read the way mcp_stdio documents it reads it.
* :mod:`.shrink`: the smallest plan that still fails the same way.

Every run is a function of its seed: iteration ``i`` of seed ``s`` draws from its own
``random.Random(f"{target}:{s}:{i}")``, so one iteration can be replayed (and shrunk) alone.
"""
