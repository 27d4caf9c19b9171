"""``python -m crispr_book`` is the ``crispr-models`` command."""

import os
import signal
import sys

#: Exit status of an interrupted command (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = "interrupted: the previous outputs are left in place"


def _exit_interrupted(*, announce: bool = True) -> None:
    """Leave at once with status 130. A Ctrl-C that landed inside an import
    can make Python's own shutdown end the process by SIGINT instead (seen
    once in 20 runs), which callers read as a crash, not an interruption."""
    if announce:
        print(INTERRUPTED_MESSAGE, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def run() -> int:
    """The command; Ctrl-C exits with status 130 wherever it lands.

    While the command's modules import (PyMC, papermill, ... several seconds
    on a cold start) Ctrl-C only sets a flag: a ``KeyboardInterrupt`` raised
    inside a library's import can be swallowed by it, and the run then went
    on as if nothing was pressed (seen once in 20 runs). The flag is read once
    the imports are done; from then on Ctrl-C raises ``KeyboardInterrupt``,
    which the command handles (the runner waits for its notebooks in a way
    that always receives it).
    """
    pressed = []
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        from crispr_book.cli import main
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        _exit_interrupted()
    try:
        status = main()  # prints the message itself when interrupted
    except KeyboardInterrupt:  # after main's own handler, e.g. while it returns
        _exit_interrupted()
    if status == EXIT_INTERRUPTED:
        _exit_interrupted(announce=False)
    return status


if __name__ == "__main__":
    sys.exit(run())
