"""A process's name among those sharing a database: unique while held, reused after."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.services.instance import InstanceName


def test_names_are_unique_while_held_and_come_back_once_released(tmp_path: Path) -> None:
    first, second = InstanceName(tmp_path), InstanceName(tmp_path)
    assert (first.slot, second.slot) == (0, 1)
    assert first.name != second.name
    assert first.name.endswith(f":{tmp_path.resolve()}#0")
    first.release()
    again = InstanceName(tmp_path)
    assert again.name == first.name
    elsewhere = InstanceName(tmp_path / "other")
    assert elsewhere.slot == 0 and elsewhere.name != again.name
    for name in (second, again, elsewhere):
        name.release()


def test_a_killed_process_leaves_its_name_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from bot.services.instance import InstanceName;"
            f"n = InstanceName(Path({str(tmp_path)!r})); print(n.name, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    held = holder.stdout.readline().strip()
    try:
        assert InstanceName(tmp_path).slot == 1  # taken by the live process
    finally:
        holder.kill()
        holder.wait()
    assert InstanceName(tmp_path).name == held
