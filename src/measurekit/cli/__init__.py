"""The ``measurekit`` command: parse the options (``parser``), then run the subcommand (``commands``)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from measurekit.cli import commands
    from measurekit.cli.parser import build_parser
    from measurekit.problems import InputError

    args = build_parser().parse_args(argv)
    try:
        return int(getattr(commands, args._target)(args) or 0)
    except InputError as exc:
        print(exc.report.to_text(limit=50), file=sys.stderr)
        path = getattr(exc, "report_path", None)
        if path is not None:
            print(f"\nStopped before any analysis: the input files have {len(exc.report.errors)} error(s). "
                  f"The full list is in {path}. The output folder was not touched.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
