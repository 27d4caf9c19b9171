"""``python -m crispr_models`` is the ``crispr-models`` command."""

import os
import sys

#: Exit status of an interrupted command (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def _exit_interrupted() -> None:
    """Leave at once with status 130. A Ctrl-C that landed inside an import
    can make Python's own shutdown end the process by SIGINT instead (seen
    once in 20 runs), which callers read as a crash, not an interruption."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def run() -> int:
    """The command; Ctrl-C exits with status 130 wherever it lands, also while
    the command's modules (PyMC, papermill, ...) are still importing."""
    try:
        from crispr_models.cli import main

        status = main()
    except KeyboardInterrupt:
        print("interrupted: the previous outputs are left in place", file=sys.stderr)
        status = EXIT_INTERRUPTED
    if status == EXIT_INTERRUPTED:
        _exit_interrupted()
    return status


if __name__ == "__main__":
    sys.exit(run())
