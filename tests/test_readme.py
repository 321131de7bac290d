"""Every code block of the README runs as written (issue: the front door).

Each ``python`` block runs on its own, in a fresh namespace, as a reader pasting it would run it:
from a scratch folder that holds the repository's ``priors/`` and ``model/`` (the README's paths are
relative to a clone), with matplotlib drawing off screen. Each ``bash`` block runs line by line in
that folder; ``pip install ... &&`` prefixes are dropped (this environment is already installed
that way) and the line that runs the test suite itself is skipped, since this test is part of it.
``text`` blocks are listings, not code.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks(language):
    """(line number, code) of every fenced block of ``language`` in the README."""
    text = README.read_text(encoding="utf-8")
    return [
        (text[: match.start()].count("\n") + 1, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


@pytest.fixture
def clone_like_folder(tmp_path, monkeypatch):
    for name in ("priors", "model", "tests"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(readme_blocks("python")) >= 6
    assert len(readme_blocks("bash")) >= 2


@pytest.mark.parametrize("line, code", readme_blocks("python"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_python_block_runs(line, code, clone_like_folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        exec(compile(code, f"README.md, block at line {line}", "exec"), {"__name__": "__readme__"})
    finally:
        plt.close("all")


def _shell_commands(code):
    for raw in code.splitlines():
        command = raw.split("  #")[0].strip()
        if not command or command.startswith("#"):
            continue
        if "pip install" in command:
            command = command.split("&&", 1)[1].strip() if "&&" in command else ""
        if not command or command.startswith("python -m pytest"):
            continue
        yield command


@pytest.mark.parametrize("line, code", readme_blocks("bash"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_bash_block_runs(line, code, clone_like_folder):
    commands = list(_shell_commands(code))
    assert commands, f"README block at line {line} has nothing to run"
    for command in commands:
        argv = shlex.split(command)
        if argv[:2] == ["python", "-m"]:
            argv[0] = sys.executable
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env={**os.environ})
        assert done.returncode == 0, f"README line {line}: {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr
