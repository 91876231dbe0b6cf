"""`devstack bench ready`'s idle CPU figure: a process tree's CPU time, read from /proc."""

import subprocess
import sys

import pytest

from chalice_devstack.tooling.ready import cpu_seconds

# A child that spends this much CPU time, then waits (so it is still in the tree when read).
BURN = "import sys, time\nwhile time.process_time() < 0.3: pass\nprint('done', flush=True)\nsys.stdin.read()"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cpu_seconds_counts_the_children_of_a_process() -> None:
    # Given: a parent whose child burns CPU
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        # When: the child has burnt its share
        assert parent.stdout.readline().strip() == "done"

        # Then: the parent's tree holds at least that much CPU time
        assert cpu_seconds(parent.pid) >= 0.3
    finally:
        parent.kill()
        parent.wait()
