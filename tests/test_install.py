"""The package as others get it, away from the checkout.

The sdist is built from a copy of the checkout; its tests collect, and some run, where it
is unpacked. The wheel is built from the unpacked sdist and installed in a fresh virtual
environment; the README's examples (Python, command line, the bench's fault matrix) run
from it, in a folder outside the checkout, and from a vendored copy of the ``mcp_stdio/``
folder alone, on ``PYTHONPATH`` of an interpreter that has nothing installed.

Builds run without network (``--no-isolation``): build and setuptools come with the test
extra.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import mcp_stdio

from .helpers import ROOT
from .readme import BENCH_FAULTS, PYTHON_EXAMPLES, README, SERVER_EXAMPLE, Setting, block_with, console_examples


def _can_build() -> bool:
    from importlib import metadata

    try:
        metadata.version("build")
        return int(metadata.version("setuptools").split(".")[0]) >= 77
    except metadata.PackageNotFoundError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _can_build(), reason="needs build and setuptools>=77: python -m pip install -e '.[test]'"),
]

# What a copy of the checkout leaves out: version control, environments, caches, outputs.
JUNK = (".git", ".venv*", ".tox", ".peers", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
        "*.pyc", ".pytest_cache", ".coverage", ".coverage.*", "htmlcov", "benchmarks", ".python-version")

# Folders whose every file the sdist must carry.
SHIPPED_FOLDERS = ("mcp_stdio", "tests", "tools", "examples")


def build(source: Path, kind: str, out: Path) -> str:
    """Build the sdist or the wheel (``kind``: ``--sdist`` or ``--wheel``) of ``source``; return the log."""
    # Byte-compiling on: with it off, setuptools prints warnings that only say so.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", kind, "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def unpack(archive: Path, into: Path) -> Path:
    """Unpack an sdist; return its top folder."""
    with tarfile.open(archive) as tar:
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(into, **options)
    [top] = into.iterdir()
    return top


def names_under(folder: Path) -> set[str]:
    """Return the paths of the files under ``folder``, relative to it, junk left out."""
    ignore = shutil.ignore_patterns(*JUNK)
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        skipped = ignore(dirpath, dirnames + filenames)
        dirnames[:] = [name for name in dirnames if name not in skipped]
        found |= {str(Path(dirpath, name).relative_to(folder)) for name in filenames if name not in skipped}
    return found


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> tuple[Path, str]:
    """Return the sdist built from a copy of the checkout, and the build's log."""
    work = tmp_path_factory.mktemp("sdist")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*JUNK))
    log = build(source, "--sdist", work / "dist")
    [archive] = (work / "dist").glob("*.tar.gz")
    return archive, log


@pytest.fixture(scope="module")
def wheel(sdist, tmp_path_factory) -> tuple[Path, str]:
    """Return the wheel built from the unpacked sdist (as ``python -m build`` does), and the log."""
    work = tmp_path_factory.mktemp("wheel")
    log = build(unpack(sdist[0], work / "unpacked"), "--wheel", work / "dist")
    [path] = (work / "dist").glob("*.whl")
    return path, log


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Setting:
    """Return a setting where the wheel is installed in a fresh virtual environment."""
    work = tmp_path_factory.mktemp("installed")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                           str(wheel[0])], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (work / "elsewhere").mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(work)}
    return Setting(str(venv / "bin" / "python"), env, work / "elsewhere", venv / "bin")


@pytest.fixture(scope="module")
def vendored(tmp_path_factory) -> Setting:
    """Return a setting with a copy of the mcp_stdio/ folder alone on PYTHONPATH."""
    work = tmp_path_factory.mktemp("vendored")
    shutil.copytree(ROOT / "mcp_stdio", work / "vendor" / "mcp_stdio", ignore=shutil.ignore_patterns(*JUNK))
    bare = work / "bare"  # an interpreter with nothing installed, so that only the copy can be imported
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=300)
    (work / "elsewhere").mkdir()
    env = {"PATH": f"{bare / 'bin'}:/usr/bin:/bin", "HOME": str(work), "PYTHONPATH": str(work / "vendor")}
    return Setting(str(bare / "bin" / "python"), env, work / "elsewhere")


@pytest.fixture(scope="module", params=["installed", "vendored"])
def setting(request) -> Setting:
    return request.getfixturevalue(request.param)


# The sdist


def test_the_build_prints_no_warning(sdist, wheel):
    for log in (sdist[1], wheel[1]):
        assert [line for line in log.splitlines() if "warn" in line.lower() or "deprecat" in line.lower()] == []


def test_the_sdist_carries_every_file_the_tests_need(sdist, tmp_path):
    top = unpack(sdist[0], tmp_path)
    assert top.name == f"mcp_stdio_client-{mcp_stdio.__version__}"
    shipped = names_under(top)
    for folder in SHIPPED_FOLDERS:
        wanted = {str(Path(folder, name)) for name in names_under(ROOT / folder)}
        assert wanted - shipped == set(), folder
    for name in ("LICENSE", "README.rst", "setup.cfg", "pyproject.toml", "tox.ini", ".ci/run"):
        assert name in shipped, name
    assert (top / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


def test_the_unpacked_sdist_collects_every_test_and_runs_some(sdist, tmp_path):
    top = unpack(sdist[0], tmp_path)
    # A lone copy: no MCP_SPEC_DIR, and no ../shared/mcp-spec beside it, so the tests that
    # need the official schemas skip with their reason instead of failing.
    env = {k: v for k, v in os.environ.items() if k != "MCP_SPEC_DIR"}
    env["PYTHONPATH"] = str(top)
    assert not (top.parent / "shared" / "mcp-spec").exists()
    where = subprocess.run([sys.executable, "-c", "import mcp_stdio; print(mcp_stdio.__file__)"],
                           capture_output=True, text=True, cwd=top, env=env, check=True)
    assert where.stdout.strip() == str(top / "mcp_stdio" / "__init__.py")
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                               capture_output=True, text=True, cwd=top, env=env, timeout=300)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr
    last = collected.stdout.splitlines()[-1]
    assert "ERROR" not in collected.stdout and "error" not in last and " tests collected" in last, last
    subset = ["tests/test_framing.py", "tests/test_faults.py",
              "tests/test_readme.py::test_ci_runs_the_readme_install_and_test_commands_as_written",
              "tests/test_long_runs.py::test_fuzzer_is_reproducible_from_its_seed",
              "tests/test_modern.py::test_examples_of_2026_07_28_round_trip_through_the_parser_and_encoder"]
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *subset],
                         capture_output=True, text=True, cwd=top, env=env, timeout=600)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    assert " passed" in ran.stdout.splitlines()[-1] and "failed" not in ran.stdout.splitlines()[-1]
    assert "1 skipped" in ran.stdout.splitlines()[-1], ran.stdout[-1500:]
    assert "the official MCP schemas are not here: set MCP_SPEC_DIR" in ran.stdout


# The wheel


def test_the_wheel_has_the_license_the_servers_and_the_command(wheel):
    with zipfile.ZipFile(wheel[0]) as archive:
        names = set(archive.namelist())
        info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert f"{info}/licenses/LICENSE" in names
    assert "mcp_stdio/bench/servers/_common.py" in names and "mcp_stdio/bench/servers/stubborn.py" in names
    assert "mcp_stdio/py.typed" in names
    assert not any(name.startswith(("tests/", "tools/", "examples/")) for name in names)
    headers = metadata.split("\n\n", 1)[0].splitlines()
    assert "Name: mcp-stdio-client" in headers
    assert "License-Expression: MIT" in headers
    assert not any(line.startswith("Classifier: License ::") for line in headers)
    assert "mcp-stdio-client = mcp_stdio.cli:main" in entry_points.splitlines()


# The README's examples from the wheel and from a vendored folder


def test_mcp_stdio_is_imported_from_the_setting_not_the_checkout(setting):
    done = setting.run([setting.python, "-c", "import mcp_stdio; print(mcp_stdio.__file__)"])
    assert done.returncode == 0, done.stderr
    where = Path(done.stdout.strip())
    assert ROOT not in where.parents
    if setting.bin_dir is None:
        assert where.parent.parent == Path(setting.env["PYTHONPATH"])
    else:
        assert "site-packages" in where.parts


@pytest.mark.parametrize("marker", PYTHON_EXAMPLES)
def test_python_example(setting, marker):
    PYTHON_EXAMPLES[marker](setting.run_python(block_with(marker)))


@pytest.mark.parametrize("command", console_examples())
def test_console_example(setting, command):
    reason = setting.cannot_run(command)
    if reason:
        pytest.skip(reason)
    done = setting.run(setting.argv(command))
    assert done.returncode == 0, (command, done.stderr)
    assert done.stdout.strip(), command


def test_the_server_example_serves_through_the_command_line(setting):
    (setting.cwd / "demo_server.py").write_text(block_with(SERVER_EXAMPLE), encoding="utf-8")
    # The server is a child: it inherits no PYTHONPATH unless told.
    env = ["--env", f"PYTHONPATH={setting.env['PYTHONPATH']}"] if "PYTHONPATH" in setting.env else []
    done = setting.run([setting.python, "-m", "mcp_stdio", *env, "call", "greet", "name=Ada",
                        "--", "python", "demo_server.py"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello, Ada."


def test_the_bench_runs_its_whole_fault_matrix(setting, tmp_path):
    from mcp_stdio.bench.faults import CASES

    assert f"``{BENCH_FAULTS}``" in README
    done = setting.run([*setting.argv(BENCH_FAULTS), "--quiet", "--out", str(tmp_path)], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(CASES)
    assert f"{count} of {count} faults handled as specified, {count} of {count} left nothing behind" in done.stdout
    for name, _ in CASES:
        assert name in done.stdout
    assert "ERROR" not in done.stdout
