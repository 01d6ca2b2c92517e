"""A tool's command line run in the test process: a Python of its own would spend seconds
importing before the tool did any work."""

from __future__ import annotations

import contextlib
import io
import subprocess


def run_main(main, *args: str) -> subprocess.CompletedProcess:
    """``main(list(args))`` with stdout and stderr captured, as ``subprocess.run`` would
    report the command: its exit status (argparse's usage errors included) and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as stop:
            status = stop.code
    return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())
