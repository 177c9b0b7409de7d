#!/usr/bin/env python
"""Django's command-line utility for Taqsit."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taqsit.settings")
    from django.core.management import execute_from_command_line

    from taqsit.audit import command_context

    argv = sys.argv if argv is None else argv
    # What a command or the shell writes is audited with the source "shell" (taqsit/audit.py).
    with command_context(argv):
        execute_from_command_line(argv)


if __name__ == "__main__":
    main()
