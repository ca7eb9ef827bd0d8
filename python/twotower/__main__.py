"""``python -m twotower SUBCOMMAND ...``: the twotower command line, run in this process."""

import signal
import sys

from . import main

if __name__ == "__main__":
    # Ctrl-C ends the process as it ends the `twotower` program (Python's handler would only set a
    # flag that the C++ code never reads); every output is written to a temporary and renamed,
    # so an interrupted train resumes with --resume.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
