#!/usr/bin/env python3
"""Developer entry point: creates .venv on first use, then runs newsbot or its tests.

    python3 dev.py run [ARGS]     newsbot run (or any newsbot command: dev.py run console)
    python3 dev.py test [ARGS]    ruff, then the whole test suite (pytest ARGS)
    python3 dev.py bench NAME     a benchmark script from bench/ (e.g. dev.py bench poll)

Needs only Python 3.11+; everything else is installed into .venv from pyproject.toml.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def ensure_environment() -> None:
    """Create .venv and install the project with its test extras when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py runs on whatever python3 is)
        sys.exit(f"newsbot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print("Creating .venv ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print("Installing newsbot and its dependencies into .venv ...", file=sys.stderr)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,bench]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "run":
        newsbot = [str(PYTHON), "-m", "bot"]
        return subprocess.call([*newsbot, *(rest or ["run"])], cwd=ROOT)
    if command == "bench":
        if not rest:
            print("usage: python3 dev.py bench NAME [ARGS]", file=sys.stderr)
            return 2
        return subprocess.call([str(PYTHON), f"bench/{rest[0]}.py", *rest[1:]], cwd=ROOT)
    lint = subprocess.call([str(PYTHON), "-m", "ruff", "check", "bot", "tests", "bench"], cwd=ROOT)
    if lint:
        return lint
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
