"""No thread per child on Python 3.9 to 3.11: our spawns by default, the application's own
with the opt-in pidfd watcher; same exit codes; the application's policy left alone.

Each check runs in a fresh interpreter: installing a watcher is a process-wide choice that
must not leak into the other tests.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from mcp_stdio.children import pidfd_supported

from .helpers import ROOT

pytestmark = pytest.mark.skipif(not pidfd_supported(), reason="no pidfd_open here (Linux 5.3+ only)")

SCRIPT = '''
import asyncio, sys, threading
import mcp_stdio
from mcp_stdio import sync
from mcp_stdio.children import use_pidfd_child_watcher

INSTALL = {install}
CUSTOM = {custom}
policy = asyncio.get_event_loop_policy()
if CUSTOM and sys.version_info < (3, 12):
    class MyWatcher(asyncio.ThreadedChildWatcher):
        pass
    policy.set_child_watcher(MyWatcher())
before_watcher = policy.get_child_watcher() if sys.version_info < (3, 12) else None
if INSTALL:
    assert use_pidfd_child_watcher() is True
    assert use_pidfd_child_watcher() is True  # a second call keeps the installed watcher

async def main():
    before = threading.active_count()
    clients = [mcp_stdio.connect(mcp_stdio.reference_server_command()) for _ in range(4)]
    for client in clients:
        await client.start()
    print("extra-threads", threading.active_count() - before)
    assert (await clients[0].call_tool("echo", {{"text": "hi"}}))["content"][0]["text"] == "hi"
    for client in clients:
        await client.close()
    print("closed", [client.returncode for client in clients])
    if sys.version_info < (3, 12):
        print("policy-unchanged", policy.get_child_watcher() is before_watcher)
    missing = mcp_stdio.connect(["/nonexistent/mcp-server"])
    try:
        await missing.start()
    except mcp_stdio.SpawnError as exc:
        print("missing", type(exc).__name__)
    crash = mcp_stdio.connect([sys.executable, "-c", "raise SystemExit(7)"], startup_timeout=10)
    try:
        await crash.start()
    except mcp_stdio.StartError:
        print("crash", crash.returncode)
    sleeper = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(1)")
    print("own-threads", threading.active_count() - before)
    await sleeper.wait()
    done = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
    print("exit", await done.wait())
    killed = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(30)")
    killed.kill()
    print("killed", await killed.wait())

asyncio.run(main())
# A second loop, in the synchronous client's thread, spawns through the same watcher.
with sync.connect(mcp_stdio.reference_server_command()) as client:
    print("sync", client.call_tool("echo", {{"text": "yo"}})["content"][0]["text"])
'''


def run(install: bool, custom: bool = False) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c",
                           textwrap.dedent(SCRIPT.format(install=install, custom=custom))],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def check_exit_codes(seen: dict[str, str]) -> None:
    assert seen["closed"] == "[0, 0, 0, 0]"
    assert seen["missing"] == "SpawnError"
    assert seen["crash"] == "7"
    assert seen["exit"] == "3"
    assert seen["killed"] == "-9"
    assert seen["sync"] == "yo"


def test_with_the_opt_in_every_child_is_watched_without_threads_and_exit_codes_are_kept():
    seen = run(install=True)
    assert seen["extra-threads"] == "0"
    assert seen["own-threads"] == "0"  # the application's own subprocess too
    check_exit_codes(seen)


def test_by_default_our_children_have_no_thread_and_the_policy_is_left_alone():
    seen = run(install=False)
    assert seen["extra-threads"] == "0"
    check_exit_codes(seen)
    if sys.version_info < (3, 12):
        # The application's policy keeps its watcher, and its own subprocesses use it.
        assert seen["policy-unchanged"] == "True"
        assert seen["own-threads"] == "1"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ has no policy child watchers in use")
def test_a_watcher_the_application_chose_is_used_for_our_children_too():
    seen = run(install=False, custom=True)
    assert seen["extra-threads"] == "4"  # its (thread-per-child) watcher, as it asked
    assert seen["policy-unchanged"] == "True"
    check_exit_codes(seen)


def test_removing_a_handler_closes_its_pidfd():
    code = textwrap.dedent('''
        import asyncio, os, subprocess, sys
        from mcp_stdio.children import PidfdChildWatcher

        async def main():
            watcher = PidfdChildWatcher()
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            fds = len(os.listdir("/proc/self/fd"))
            watcher.add_child_handler(child.pid, print)
            assert len(os.listdir("/proc/self/fd")) == fds + 1
            assert watcher.remove_child_handler(child.pid) is True
            assert watcher.remove_child_handler(child.pid) is False
            assert len(os.listdir("/proc/self/fd")) == fds
            child.kill()
            child.wait()
            print("ok")

        asyncio.run(main())
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def run_code(code: str) -> str:
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ spawns through asyncio's own pidfd watcher")
def test_without_a_pidfd_left_a_child_is_watched_by_asyncio_s_watcher_and_nothing_leaks():
    out = run_code('''
        import asyncio, os, errno, threading
        import mcp_stdio
        from mcp_stdio import children

        assert children.pidfd_supported()
        def no_fd(pid):
            raise OSError(errno.EMFILE, "Too many open files")
        os.pidfd_open = no_fd

        async def main():
            client = mcp_stdio.connect(mcp_stdio.reference_server_command())
            await client.start()
            print("threads", threading.active_count())  # asyncio's waitpid thread
            print("echo", (await client.call_tool("echo", {"text": "ok"}))["content"][0]["text"])
            await client.close()
            print("code", client.returncode)

        asyncio.run(main())
    ''')
    assert out.splitlines() == ["threads 2", "echo ok", "code 0"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ spawns through asyncio's own pidfd watcher")
def test_a_child_whose_loop_closed_while_it_ran_is_reaped_at_the_next_spawn():
    out = run_code('''
        import asyncio, os, sys, time
        from mcp_stdio import children

        async def spawn(seconds):
            transport, _ = await children.subprocess_exec(
                asyncio.SubprocessProtocol, sys.executable, "-c", f"import time; time.sleep({seconds})",
                stdin=None, stdout=None, stderr=None)
            return transport

        orphan = asyncio.run(spawn(0.2)).get_pid()  # the loop closes while it runs
        time.sleep(0.5)
        print("zombie", open(f"/proc/{orphan}/stat").read().split(")")[1].split()[0])

        async def again():
            transport = await spawn(0)
            await transport._wait()
            return transport.get_returncode()

        print("code", asyncio.run(again()))
        for _ in range(100):
            if not os.path.exists(f"/proc/{orphan}"):
                break
            time.sleep(0.05)
        print("reaped", not os.path.exists(f"/proc/{orphan}"))
    ''')
    assert out.splitlines() == ["zombie Z", "code 0", "reaped True"]


def test_a_forked_child_forgets_the_parent_s_watched_children():
    out = run_code('''
        import asyncio, os, sys
        import mcp_stdio
        from mcp_stdio import children

        async def main():
            client = mcp_stdio.connect(mcp_stdio.reference_server_command())
            await client.start()
            pid = os.fork()
            if pid == 0:
                os._exit(0 if children._watcher is None else 3)
            _, status = os.waitpid(pid, 0)
            print("child", os.waitstatus_to_exitcode(status))
            await client.close()
            print("code", client.returncode)

        asyncio.run(main())
    ''')
    assert out.splitlines() == ["child 0", "code 0"]
