#!/usr/bin/env python
"""Django's command-line utility for Taqsit."""

import os
import sys

OWNER_COMMANDS = {"migrate", "flush", "createcachetable"}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    # The schema is the owner's: these commands connect as DATABASE_URL's user, every other one as the runtime
    # role (taqsit/settings.py, "Database").
    if len(argv) > 1 and argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("TAQSIT_DB_ROLE", "owner")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taqsit.settings")
    from django.core.management import execute_from_command_line

    from taqsit.audit import command_context

    # What a command or the shell writes is audited with the source "shell" (taqsit/audit.py).
    with command_context(argv):
        execute_from_command_line(argv)


if __name__ == "__main__":
    main()
