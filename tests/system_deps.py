"""What the suite needs from outside Python, found or installed before it runs: the one place that knows it.

    python -m tests.system_deps            # Chromium, redis-server, WeasyPrint's libraries (Pango, HarfBuzz) and
                                           # poppler's pdftotext: `make test` runs this first (and .ci/run)
    python -m tests.system_deps gettext    # msgfmt, for `make messages`

Each program is looked for first and installed only when missing: as root on Debian or Ubuntu with
``apt-get install``; Chromium elsewhere with Playwright's own ``playwright install chromium`` (its build lands in
Playwright's cache, where the browser tests find it). When nothing works (no root, no network), it prints one
line that says what to run and exits with status 2, so ``make test`` stops before the suite instead of failing
every browser test at setup. Nothing here skips a test.

Chromium is found, in order: ``CHROMIUM_PATH`` when set (then it must exist: nothing else is tried), Debian's
``/usr/bin/chromium``, a ``chromium`` on ``PATH``, Playwright's own build. ``tests/browser/conftest.py`` and
``tests/browser/screenshots.py`` launch what ``chromium_path()`` returns.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

DEBIAN_CHROMIUM = "/usr/bin/chromium"


class MissingProgramError(Exception):
    """A program the suite needs could not be found nor installed; the message says what to run."""


def _executable(path: str | None) -> bool:
    return bool(path) and Path(path).is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> str | None:
    """Playwright's own Chromium build (``playwright install chromium``), when it is on this machine."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if _executable(path) else None


def chromium_path() -> str | None:
    """The Chromium the browser tests launch, or None when there is none (see the module's docstring)."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if _executable(explicit) else None
    for candidate in (DEBIAN_CHROMIUM, shutil.which("chromium")):
        if _executable(candidate):
            return candidate
    return playwright_chromium()


def _apt_possible() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(*packages: str) -> bool:
    """``apt-get install`` as root; False when apt is not here or the install failed (its output is shown)."""
    if not _apt_possible():
        return False
    print(f"Installing {' '.join(packages)} with apt-get (needed by the test suite)...", flush=True)  # noqa: T201
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)  # noqa: S607
    if update.returncode != 0:
        return False
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    return subprocess.run(command, env=env, check=False).returncode == 0  # noqa: S603


def chromium_ensure() -> str:
    """The Chromium path, installing one when none is found (apt as root, else Playwright's download)."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit and not _executable(explicit):
        message = f"CHROMIUM_PATH={explicit} is not an executable: point it at a Chromium, or unset it."
        raise MissingProgramError(message)
    path = chromium_path()
    if path:
        return path
    if _apt_install("chromium") and (path := chromium_path()):
        return path
    print("Installing Playwright's Chromium (playwright install chromium)...", flush=True)  # noqa: T201
    command = [sys.executable, "-m", "playwright", "install", "chromium"]
    # Its download progress and, without network, its stack traces are kept back: the line below says it all.
    installed = subprocess.run(command, check=False, capture_output=True)  # noqa: S603
    if installed.returncode == 0 and (path := chromium_path()):
        return path
    raise MissingProgramError(
        "The browser tests need Chromium and none could be installed: run `sudo apt-get install chromium` "
        "(Debian, Ubuntu) or `.venv/bin/playwright install chromium`, or set CHROMIUM_PATH, then `make test` again."
    )


def program_ensure(program: str, package: str, why: str) -> str:
    """A program from a Debian package (``redis-server``, ``msgfmt``), installed with apt when missing."""
    path = shutil.which(program)
    if path:
        return path
    if _apt_install(package) and (path := shutil.which(program)):
        return path
    message = f"{why} need `{program}` and it could not be installed: run `sudo apt-get install {package}`."
    raise MissingProgramError(message)


# What WeasyPrint (the contract's PDF, installments/contract.py) loads at run time, with the Debian package of each:
# Pango lays the text out, HarfBuzz shapes it (Arabic joined right to left) and subsets the fonts it embeds. The
# Dockerfile installs the same packages for production.
WEASYPRINT_LIBRARIES = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
}


def libraries_ensure(libraries: dict[str, str], why: str) -> list[str]:
    """Shared libraries (``ctypes.util.find_library`` names), each installed from its Debian package when missing."""

    def missing() -> list[str]:
        return [package for name, package in libraries.items() if ctypes.util.find_library(name) is None]

    packages = missing()
    if packages and (not _apt_install(*packages) or missing()):
        message = f"{why} need {', '.join(packages)} and it could not be installed: run `sudo apt-get install"
        raise MissingProgramError(f"{message} {' '.join(packages)}`.")
    return list(libraries)


NEEDS = {
    "chromium": chromium_ensure,
    "redis-server": lambda: program_ensure("redis-server", "redis-server", "The resilience tests"),
    "gettext": lambda: program_ensure("msgfmt", "gettext", "Compiling the translations (compilemessages)"),
    "weasyprint": lambda: libraries_ensure(WEASYPRINT_LIBRARIES, "The contracts' PDFs (WeasyPrint)"),
    "pdftotext": lambda: program_ensure("pdftotext", "poppler-utils", "The contract tests (reading its PDF)"),
}
SUITE = ("chromium", "redis-server", "weasyprint", "pdftotext")


def main(argv: list[str]) -> int:
    wanted = argv or list(SUITE)
    unknown = [name for name in wanted if name not in NEEDS]
    if unknown:
        print(f"Unknown: {', '.join(unknown)} (known: {', '.join(NEEDS)})", file=sys.stderr)  # noqa: T201
        return 2
    for name in wanted:
        try:
            NEEDS[name]()
        except MissingProgramError as missing:
            print(missing, file=sys.stderr)  # noqa: T201
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
