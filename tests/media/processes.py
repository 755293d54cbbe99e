"""What the sandbox tests ask of the processes they watch (Linux /proc)."""

import os
from pathlib import Path


def gone(pid: int) -> bool:
    """Whether no process `pid` exists any longer."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def parent_of(pid: int) -> int:
    """The parent process id of `pid`, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])
