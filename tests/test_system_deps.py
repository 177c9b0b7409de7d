"""`make test` brings what the suite needs from outside Python, or stops with one line (tests/system_deps.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import system_deps


@pytest.fixture
def no_install(monkeypatch):
    """A machine where nothing can be installed: not root (no apt), and Playwright's download fails."""
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 1000)
    calls: list[list[str]] = []

    def run(command, **kwargs):
        calls.append(list(command))
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(system_deps.subprocess, "run", run)
    return calls


def test_chromium_path_set_but_missing_stops_with_one_line_and_installs_nothing(monkeypatch, tmp_path, capsys):
    missing = tmp_path / "chromium"
    monkeypatch.setenv("CHROMIUM_PATH", str(missing))
    monkeypatch.setattr(system_deps.subprocess, "run", lambda *a, **k: pytest.fail("nothing is installed"))

    assert system_deps.main(["chromium"]) == 2

    assert capsys.readouterr().err == (
        f"CHROMIUM_PATH={missing} is not an executable: point it at a Chromium, or unset it.\n"
    )


def test_chromium_path_set_to_an_executable_is_the_one_launched(monkeypatch, tmp_path):
    browser = tmp_path / "chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("CHROMIUM_PATH", str(browser))

    assert system_deps.chromium_path() == str(browser)
    assert system_deps.main(["chromium"]) == 0


def test_no_chromium_and_no_way_to_install_one_says_what_to_run(monkeypatch, no_install, capsys):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(system_deps, "DEBIAN_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(system_deps.shutil, "which", lambda name: None)
    monkeypatch.setattr(system_deps, "playwright_chromium", lambda: None)

    assert system_deps.main([]) == 2

    # Not root: apt is not tried; Playwright's own download is, and it failed.
    assert no_install == [[sys.executable, "-m", "playwright", "install", "chromium"]]
    assert capsys.readouterr().err.splitlines() == [
        "The browser tests need Chromium and none could be installed: run `sudo apt-get install chromium` "
        "(Debian, Ubuntu) or `.venv/bin/playwright install chromium`, or set CHROMIUM_PATH, then `make test` again."
    ]


def test_root_on_debian_installs_chromium_with_apt(monkeypatch, tmp_path):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    installed = tmp_path / "chromium"
    monkeypatch.setattr(system_deps, "DEBIAN_CHROMIUM", str(installed))
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system_deps.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(system_deps, "playwright_chromium", lambda: None)
    commands: list[list[str]] = []

    def run(command, **kwargs):
        commands.append(list(command))
        if command[:2] == ["apt-get", "install"]:
            installed.write_text("#!/bin/sh\n")
            installed.chmod(0o755)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(system_deps.subprocess, "run", run)

    assert system_deps.chromium_ensure() == str(installed)
    assert commands == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ]


def test_redis_server_missing_without_root_says_what_to_run(monkeypatch, no_install, capsys):
    monkeypatch.setattr(system_deps.shutil, "which", lambda name: None)

    assert system_deps.main(["redis-server"]) == 2

    assert no_install == []
    assert capsys.readouterr().err == (
        "The resilience tests need `redis-server` and it could not be installed: "
        "run `sudo apt-get install redis-server`.\n"
    )


def test_make_test_runs_the_check_before_the_suite():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "test: install $(SECRET_KEY_FILE) test-deps\n" in makefile
    assert "\t@$(BIN)/python -m tests.system_deps\n" in makefile


def test_weasyprints_libraries_missing_are_installed_with_apt(monkeypatch):
    """Pango and HarfBuzz's subsetter (the contract's PDF) come from Debian's packages, like Chromium."""
    installed: set[str] = set()
    monkeypatch.setattr(system_deps.ctypes.util, "find_library", lambda name: name if name in installed else None)
    monkeypatch.setattr(system_deps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system_deps.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    commands: list[list[str]] = []

    def run(command, **kwargs):
        commands.append(list(command))
        if command[:2] == ["apt-get", "install"]:
            installed.update(system_deps.WEASYPRINT_LIBRARIES)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(system_deps.subprocess, "run", run)

    assert system_deps.main(["weasyprint"]) == 0
    assert commands == [
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "libpango-1.0-0",
            "libpangoft2-1.0-0",
            "libharfbuzz-subset0",
        ],
    ]


def test_weasyprints_libraries_missing_without_root_say_what_to_run(monkeypatch, no_install, capsys):
    monkeypatch.setattr(system_deps.ctypes.util, "find_library", lambda name: None)

    assert system_deps.main(["weasyprint"]) == 2

    assert no_install == []
    assert capsys.readouterr().err == (
        "The contracts' PDFs (WeasyPrint) need libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0 and it could "
        "not be installed: run `sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0`.\n"
    )


def test_the_suite_reads_pdfs_with_poppler(monkeypatch, no_install, capsys):
    monkeypatch.setattr(system_deps.shutil, "which", lambda name: None)

    assert system_deps.main(["pdftotext"]) == 2

    assert capsys.readouterr().err == (
        "The contract tests (reading its PDF) need `pdftotext` and it could not be installed: "
        "run `sudo apt-get install poppler-utils`.\n"
    )
