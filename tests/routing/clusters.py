"""A PostgreSQL cluster of a test's own, on 127.0.0.1, that it may stop and freeze."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def postgres_bin() -> Path:
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{directory}/initdb", os.X_OK):
            return Path(directory)
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).parent
    pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of our own, on 127.0.0.1, that tests may stop."""

    def __init__(self):
        self.bin = postgres_bin()
        # Not under pytest's tmp_path: its parents are closed to the postgres user.
        root = Path(tempfile.mkdtemp(prefix="dialwhom-outage-"))
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/dialwhom"

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(self.bin / program), *args],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if done.returncode:
            raise RuntimeError(f"{program} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        self._run(
            "pg_ctl",
            f"--pgdata={self.data}",
            f"--log={self.data.parent / 'server.log'}",
            "--wait",
            "--options",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: at once (a crash), or "fast" (a restart's clean stop).

        With this cluster's fsync and synchronous_commit off, a crash may lose
        the last commits; a fast stop writes them out first.
        """
        self._run("pg_ctl", f"--pgdata={self.data}", "-m", mode, "stop")

    def createdb(self, name: str) -> None:
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )

    def pids(self) -> list[int]:
        """Return the postmaster and every process it started."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except FileNotFoundError:
            return []  # stopped
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(postmaster)],
            capture_output=True,
            text=True,
        ).stdout.split()
        return [postmaster, *map(int, children)]

    def signal(self, signum: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(
    roster_dir: Path | None = None, *, groups_csv: str = "", agents_csv: str = ""
):
    """Yield a started cluster with a database `dialwhom`; remove it afterwards.

    Given a directory for the roster files, the database is migrated and the
    roster loaded.
    """
    from tests.servers import load_roster

    cluster = Cluster()
    cluster.start()
    try:
        cluster.createdb("dialwhom")
        if roster_dir is not None:
            (roster_dir / "groups.csv").write_text(groups_csv)
            (roster_dir / "agents.csv").write_text(agents_csv)
            load_roster(
                {**os.environ, "DATABASE_URL": cluster.url},
                roster_dir / "groups.csv",
                roster_dir / "agents.csv",
            )
        yield cluster
    finally:
        cluster.signal(signal.SIGCONT)
        with contextlib.suppress(RuntimeError):
            cluster.stop()
        cluster.remove()


def cluster_with_roster(tmp_path_factory, groups_csv: str, agents_csv: str):
    """The body of a module-scoped fixture: a cluster with this roster loaded."""
    with running_cluster(
        tmp_path_factory.mktemp("roster"), groups_csv=groups_csv, agents_csv=agents_csv
    ) as cluster:
        yield cluster
