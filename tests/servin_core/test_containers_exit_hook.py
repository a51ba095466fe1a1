"""conmon's exit command: nothing imported when the container is gone, and
a process that marked a container as its own to remove holds the exit
command back only while it lives."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from servin_core.config import Config
from servin_core.containers.conmon import exit_command
from servin_core.containers.exit_hook import attached_mark, mark_attached

_ID = "ab" * 32
_SCRIPT = (
    "import sys\n"
    "from servin_core.containers import exit_hook\n"
    "exit_hook.main(sys.argv[1:])\n"
    "print(sorted(m for m in sys.modules if m.startswith('servin_core')))\n"
)


def _hook(tmp_path: Path) -> subprocess.Popen[str]:
    argv = ["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run"), _ID]
    return subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, *argv], stdout=subprocess.PIPE, text=True
    )


def test_exit_command_of_a_removed_container_imports_nothing_of_the_core(
    tmp_path: Path,
) -> None:
    out, _ = _hook(tmp_path).communicate(timeout=60)

    modules = eval(out.splitlines()[-1])
    assert "servin_core.core" not in modules
    assert "servin_core.containers.cleanup" not in modules


def test_exit_command_waits_while_the_marking_process_lives(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from servin_core.containers.exit_hook import mark_attached\n"
            f"mark_attached(Path({str(run_dir)!r}), {_ID!r})\n"
            "print('marked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "marked\n"
    hook = _hook(tmp_path)
    try:
        time.sleep(0.5)
        waiting = hook.poll() is None
    finally:
        holder.kill()
        holder.communicate()

    hook.communicate(timeout=60)
    assert waiting
    assert hook.returncode == 0
    assert not attached_mark(run_dir, _ID).exists()


def test_mark_of_this_process_names_it(tmp_path: Path) -> None:
    mark_attached(tmp_path, _ID)

    pid = attached_mark(tmp_path, _ID).read_text().split()[0]
    assert int(pid) > 0


def test_exit_command_as_conmon_runs_it_hands_what_is_left_to_the_cleanup(
    tmp_path: Path,
) -> None:
    config = Config().with_root(tmp_path / "root")
    gone, left = "cd" * 32, _ID
    (config.data_dir / "containers" / left).mkdir(parents=True)

    def exit_command_of(ident: str) -> None:
        done = subprocess.run(
            exit_command(config, ident, 1.0), cwd="/", capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr

    # Started without site-packages, it needs no store for a container gone...
    exit_command_of(gone)
    assert not (config.data_dir / "servin.db").exists()
    # ...and starts the full cleanup, which opens the store, for one left.
    exit_command_of(left)
    assert (config.data_dir / "servin.db").exists()
