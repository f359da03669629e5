"""The README's examples as data, and a runner for them in a given setting.

tests/test_readme.py runs them in the checkout; tests/test_install.py runs the same ones
from an installed wheel and from a vendored ``mcp_stdio/`` folder.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
from pathlib import Path

from .helpers import ROOT

README = (ROOT / "README.rst").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    """Return the source of every ``.. code-block:: python`` of the README, dedented."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README)
    return ["\n".join(line[4:] for line in block.splitlines()).strip() + "\n" for block in blocks]


def block_with(text: str) -> str:
    """Return the one Python example that contains ``text``."""
    [block] = [b for b in python_blocks() if text in b]
    return block


def console_examples() -> list[str]:
    """Return the command lines of the README's console examples, without the ``$`` prompt."""
    return [line.strip()[2:] for line in README.splitlines() if line.strip().startswith("$ ")]


# The fault matrix, the bench group that needs files besides its code (its servers).
BENCH_FAULTS = "python -m mcp_stdio.bench faults"

# The example that is a server script, not a client: run through the command line.
SERVER_EXAMPLE = 'Server("demo")'


def check_quick_start(lines: list[str]) -> None:
    assert lines[0] == "mcp_stdio-reference 2026-07-28"  # the reference server serves both eras
    assert lines[1].startswith("['echo', 'add', 'sleep', 'blob', 'weather'")
    assert lines[2] == "hello"


def check_group(lines: list[str]) -> None:
    assert lines == ["['first', 'second'] ['broken']", "26 first__echo", "3", "2"]


def check_pool(lines: list[str]) -> None:
    assert lines == ["5050.0", "2 100 2026-07-28"]


def check_sync(lines: list[str]) -> None:
    assert lines == ["mcp_stdio-reference", "no asyncio here"]


def check_sync_pool(lines: list[str]) -> None:
    assert lines == ["5050.0", "2 0"]  # every agent closed, on the two members


# Each client example: text that finds it in the README, and the check of what it prints.
PYTHON_EXAMPLES = {
    "mcp_stdio.connect(command)": check_quick_start,
    "connect_all(servers)": check_group,
    "mcp_stdio.pool(command": check_pool,
    "mcp_stdio.sync.connect(": check_sync,
    "mcp_stdio.sync.pool(": check_sync_pool,
}


@dataclasses.dataclass
class Setting:
    """Where the examples run: the interpreter that ``python`` means, its environment, a cwd.

    ``bin_dir`` holds the console script ``mcp-stdio-client`` when the package is installed.
    """

    python: str
    env: dict
    cwd: Path
    bin_dir: Path | None = None

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.cwd, env=self.env)

    def argv(self, command: str) -> list[str]:
        """Return ``command`` (a README line) as an argv for this setting."""
        argv = shlex.split(command)
        if argv[0] == "python":
            argv[0] = self.python
        elif argv[0] == "mcp-stdio-client" and self.bin_dir is not None:
            argv[0] = str(self.bin_dir / "mcp-stdio-client")
        return argv

    def cannot_run(self, command: str) -> str | None:
        """Return why ``command`` cannot run in this setting (``None``: it can)."""
        argv = shlex.split(command)
        if argv[0] == "mcp-stdio-client" and (self.bin_dir is None
                                                or not (self.bin_dir / "mcp-stdio-client").is_file()):
            return "no mcp-stdio-client command here: the package is not installed (a vendored folder has none)"
        if "--reference" in argv:
            usage = self.run([self.python, "-m", "mcp_stdio", "--help"])
            if "--reference" not in usage.stdout:
                return "the command line has no --reference option yet (it comes with the cli work)"
        return None

    def run_python(self, source: str) -> list[str]:
        """Run a Python example (``python -c``); return its output lines."""
        done = self.run([self.python, "-c", source])
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()


def checkout() -> Setting:
    """Return the setting of the checkout: this interpreter, the checkout on PYTHONPATH."""
    import sys

    from .helpers import CHILD_ENV

    bin_dir = Path(sys.executable).parent
    return Setting(sys.executable, dict(CHILD_ENV, PATH="/usr/bin:/bin"), ROOT, bin_dir)
