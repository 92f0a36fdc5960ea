"""The ``chainrule`` command: train, evaluate, predict, explain, summary, export, demo, info.

    chainrule demo                                   # spirals, progress bars, pictures
    chainrule train heart --target AHD --seed 0      # a built-in dataset; writes runs/Heart/
    chainrule train data.csv --target y --impute     # any CSV file; writes runs/data/
    chainrule train --resume runs/data               # continue after a Ctrl-C
    chainrule evaluate runs/Heart heart
    chainrule predict runs/Heart new.csv --out preds.csv    # or to standard output
    chainrule explain "cos(sin(x**2)+3*x**2)" --at x=1.5
    chainrule summary runs/Heart
    chainrule export runs/Heart heart.onnx           # ONNX, preprocessing in its metadata
    chainrule info

Exit codes, as a careful command-line tool has them:

* **0** success;
* **1** the command ran but failed: training diverged (no candidate has a finite
  validation loss; the run directory and its report are still written);
* **2** bad input: a usage error, a missing or malformed file, column, row or run directory
  — one line ``chainrule: error: ...`` on stderr naming the flag, file, column or row;
* **130** Ctrl-C (SIGINT): one line on stderr; ``train`` keeps what exists (see
  :mod:`chainrule.train.run`) and names the command that resumes it;
* **143** SIGTERM (``kill``, a job scheduler, ``docker stop``): handled exactly like
  Ctrl-C (``train`` stops after the current batch and writes what it has; a second signal
  ends it at once), then 128 + 15 so a script can tell the two apart;
* **141** the reader of standard output went away (``chainrule predict ... | head``): the
  code a process killed by SIGPIPE reports (128 + 13), as coreutils' tools do, so a
  pipeline's status is the same as with them; nothing is printed.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

from .. import _console
from .commands import COMMANDS, EXIT_INTERRUPTED, EXIT_USAGE
from .parser import UsageError, build_parser, protect_expression

__all__ = ["main"]

EXIT_BROKEN_PIPE = 141
EXIT_TERMINATED = 143


def _one_line(e: BaseException) -> str:
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        msg = f"{e.strerror}: {e.filename}"
    return " ".join(msg.split()) or type(e).__name__


def _quiet_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv=None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code."""
    command = _console.is_the_command()
    if command:
        _console.sigterm_as_sigint()
    code = _main(argv)
    if code == EXIT_INTERRUPTED and _console.terminated():
        code = EXIT_TERMINATED
    if command:
        # the work is done and its status decided: a Ctrl-C while the interpreter shuts
        # down (atexit handlers import modules) would print an "Exception ignored"
        # traceback and still exit 0
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


def _main(argv) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(protect_expression(argv))
        args._argv = argv  # --nproc relaunches the same command under mpiexec
        if args.command is None:
            build_parser().print_help()
            return 0
        if os.environ.get("CHAINRULE_PAUSE_AT"):  # testing hook: Ctrl-C as a command starts
            from ..train._trainer import pause_point

            pause_point(f"command:{args.command}")
        from ..train._finite import NonFiniteLossWarning

        with warnings.catch_warnings():  # the commands say it in their own words (reports,
            warnings.simplefilter("ignore", NonFiniteLossWarning)  # reason columns, notes)
            return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"chainrule: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except (ValueError, OSError) as e:
        print(f"chainrule: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
