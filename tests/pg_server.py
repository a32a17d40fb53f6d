"""A throwaway PostgreSQL server the tests start, freeze, restart and remove themselves.

It runs from the server binaries installed on the machine (Debian puts them in
``/usr/lib/postgresql/<version>/bin``), in a temporary directory, on a free port: so a
test can stop it (SIGSTOP: a server that no longer answers, though the kernel keeps its
connections up) or restart it without touching the shared server other tests use.
When the binaries are missing the tests that need it are skipped, and fail under CI.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path


def server_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (the newest version), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _version(path: str) -> tuple[int, ...]:
    number = Path(path).parents[1].name
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """One PostgreSQL server of our own: ``start()``, ``freeze()``, ``thaw()``,
    ``stop()``, ``start()`` again (same port and data), ``remove()``."""

    def __init__(self, binaries: Path) -> None:
        self._bin = binaries
        self._user: str | None = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root and there is no 'postgres' user") from exc
            self._user = "postgres"
        self.home = Path(tempfile.mkdtemp(prefix="outcome-router-pg-"))
        self.data = self.home / "data"
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.home, entry.pw_uid, entry.pw_gid)
        self.port = _free_port()
        self.frozen: list[int] = []
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        """A store URL of its ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        # fsync off: what is committed survives a crash of the server (the tests' case),
        # not of the machine; synchronous_commit stays on, or a crash would lose commits.
        options = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.home / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed)."""
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def freeze(self) -> None:
        """SIGSTOP the server and every backend: connections stay up, nothing answers."""
        pids = self._pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        self.frozen = pids

    def thaw(self) -> None:
        """SIGCONT what :meth:`freeze` stopped."""
        pids, self.frozen = self.frozen, []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        """Stop the server at once and delete its directory."""
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)

    def _pids(self) -> list[int]:
        """The postmaster and its children (the backends and background workers)."""
        pid_file = self.data / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:  # the parent pid
                    children.append(int(Path(stat).parent.name))
        return [postmaster, *children]

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self._bin / program), *args],
            check=True,
            capture_output=True,
            timeout=120,
            user=self._user,
            cwd=self.home,
        )
