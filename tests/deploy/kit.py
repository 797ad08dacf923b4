"""What the tests of the operator's kit (deploy/) share: its files, its programs."""

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def require(program: str, package: str) -> str:
    """Return the path of `program`; skip without it (fail under CI, which has it)."""
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: dev/test installs {package}")
    pytest.skip(f"{program} is not installed (Debian: apt-get install {package})")


def moved(text: str, replacements: list[tuple[str, str]], source: Path) -> str:
    """Return `text`, a file of the kit, with each (old, new) replaced: its paths and
    ports moved to a test's own. Fails when the file no longer has an `old`."""
    for old, new in replacements:
        assert old in text, f"{source.relative_to(REPO)} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def scratch_directory(prefix: str) -> Path:
    """Return a new directory that other users (nginx's, postgres) may enter."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root


def wait_until(answers, process: subprocess.Popen, log: Path) -> None:
    """Wait (30 s at most) until `answers()` is true; fail with the log if not."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if answers():
                return
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def answers_200(url: str) -> bool:
    """Return whether GET `url` answers 200 (false while nothing listens)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except urllib.error.URLError:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
