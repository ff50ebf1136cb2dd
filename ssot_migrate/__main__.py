"""``python -m ssot_migrate`` and the ``ssot-migrate`` script: guards that must run before imports.

Two things can go wrong before ``cli.main`` is even imported. ``python -m`` puts the current
directory first on ``sys.path``, so a repository holding ``typer.py`` or ``rich.py`` at its root
would be imported in place of the real packages (and run): that entry goes. And Ctrl-C during
the imports (a large part of the first 0.15 s) must end like any other Ctrl-C: ``interrupted``,
exit 130, no traceback.
"""

import os  # loaded by the interpreter's start-up already: no import window here
import sys


def _interrupted() -> None:
    try:  # a second Ctrl-C must not cut this short; `signal` itself takes a while to import
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        pass
    try:
        print("interrupted", file=sys.stderr)
    except (OSError, ValueError, AttributeError, KeyboardInterrupt):
        pass
    os._exit(130)


def run() -> None:
    """Drop the current directory from ``sys.path`` (see above), then run the CLI."""
    try:
        here = os.getcwd()
    except OSError:
        here = ""
    if sys.path and sys.path[0] in ("", ".", here):
        sys.path.pop(0)
    try:
        from ssot_migrate.cli import main

        main()
    except KeyboardInterrupt:
        _interrupted()


if __name__ == "__main__":
    run()
