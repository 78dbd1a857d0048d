"""Fixtures and helpers for Muster's black-box integration tests.

Everything here talks to the real `muster` binary over MUSTER/1 (ZeroMQ DEALER, three frames:
b"MUSTER/1" · COMMAND · JSON body) or runs its CLI. Nothing imports Swift code.

Synchronisation is by polling for an observable condition with a deadline, never by fixed sleeps.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
import zmq

INTEGRATION_DIR = Path(__file__).resolve().parent
REPO_DIR = INTEGRATION_DIR.parent
CONFIG_DIR = REPO_DIR / "config"
MUSTER_BIN = Path(os.environ.get("MUSTER_BIN", str(INTEGRATION_DIR / ".." / ".build" / "debug" / "muster"))).resolve()

VERSION = b"MUSTER/1"
REPLY_COMMANDS = {"OK", "ACCEPTED", "RESULT", "ERROR", "WELCOME"}
PUSH_COMMANDS = {"DISPATCH", "SUMMON", "NOTICE", "EVENT"}

# The grid used throughout: 解放路街道, inside the 二七塔 dedicated grid.
GRID = "zz/erqi/jiefanglu"


# --------------------------------------------------------------------------------------------
# small utilities


def free_port() -> int:
    """A TCP port nobody listens on right now (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond: Callable[[], Any], timeout: float, what: str = "condition",
               pump: Iterable["Peer"] = (), interval: float = 0.05) -> Any:
    """Polls `cond` until it returns something truthy; pumps the given peers meanwhile (so that
    their pushes are collected and their heartbeats go out). Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    peers = list(pump)
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        if peers:
            pump_peers(peers, interval)
        else:
            time.sleep(interval)


def pump_peers(peers: list["Peer"], timeout: float) -> None:
    """Waits up to `timeout` for any of the peers' sockets to be readable and lets each handle
    what arrived (and send a heartbeat if due)."""
    poller = zmq.Poller()
    for p in peers:
        poller.register(p.sock, zmq.POLLIN)
    poller.poll(int(timeout * 1000))
    for p in peers:
        p.pump(0)


def case_body(title: str, external_ref: str, *, category: str | None = "street_vending",
              address: str | None = None, grid: str = GRID, source: str = "hotline_12345",
              priority: str = "normal", **extra: Any) -> dict:
    """A SUBMIT `case` object. Give every case its own address unless you want 并单 (merging):
    the broker merges open cases with the same category, grid and address."""
    c: dict[str, Any] = {
        "source": source,
        "external_ref": external_ref,
        "title": title,
        "priority": priority,
        "location": {"grid": grid, "address": address if address is not None else f"{title} 门前 {external_ref}"},
    }
    if category is not None:
        c["category"] = category
    c.update(extra)
    return c


def copy_config(dest: Path, *, heartbeat: str | None = None, resend_after: str | None = None) -> Path:
    """Copies config/ (muster.yaml, routing, grids, calendar, adapters) into dest/config and
    sets broker timings there. Returns the path of the copied muster.yaml."""
    cfg_dir = dest / "config"
    if not cfg_dir.exists():
        shutil.copytree(CONFIG_DIR, cfg_dir)
    muster_yaml = cfg_dir / "muster.yaml"
    text = muster_yaml.read_text(encoding="utf-8")
    if heartbeat is not None:
        text, n = re.subn(r"(?m)^(\s+heartbeat:\s*)\S+", rf"\g<1>{heartbeat}", text)
        assert n == 1, "muster.yaml has no broker.heartbeat line"
    if resend_after is not None:
        text, n = re.subn(r"(?m)^(\s+resend_after:\s*)\S+", rf"\g<1>{resend_after}", text)
        assert n == 1, "muster.yaml has no broker.resend_after line"
    muster_yaml.write_text(text, encoding="utf-8")
    return muster_yaml


def adapter_config(dest: Path, name: str, *, return_probability: float | None = 0) -> Path:
    """A copy of config/adapters/NAME.yaml (with return_probability overridden) as
    dest/config/adapters/NAME.yaml, so that its key files (../../data/keys) are dest/data/keys."""
    src = CONFIG_DIR / "adapters" / f"{name}.yaml"
    text = src.read_text(encoding="utf-8")
    if return_probability is not None and "return_probability" in text:
        text, n = re.subn(r"(?m)^(\s*return_probability:\s*)[0-9.]+", rf"\g<1>{return_probability}", text)
        assert n == 1
    out = dest / "config" / "adapters" / f"{name}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def run_cli(*args: str, timeout: float = 30, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs `muster ARGS...` to completion and returns the CompletedProcess (text mode)."""
    return subprocess.run([str(MUSTER_BIN), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=str(cwd) if cwd else None)


def verify_log(db: Path) -> subprocess.CompletedProcess:
    return run_cli("verify-log", "--db", str(db), timeout=60)


def db_query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Reads the broker's SQLite db (read-only; WAL lets this run while the broker is up)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# child processes


class _Child:
    """A child process whose stdout/stderr are drained by threads into lists (no pipe stalls)."""

    def __init__(self, args: list[str], cwd: Path, name: str, log_dir: Path, env: dict[str, str] | None = None):
        self.args = args
        self.name = name
        self.stdout_lines: list[str] = []
        self.stderr_path = log_dir / f"{name}.stderr.log"
        self._stderr_file = open(self.stderr_path, "ab")
        self._cv = threading.Condition()
        self.proc = subprocess.Popen(args, cwd=str(cwd), stdout=subprocess.PIPE, stderr=self._stderr_file,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env={**os.environ, **env} if env else None)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True, name=f"{name}-stdout")
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cv:
                self.stdout_lines.append(line)
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def wait_line(self, pattern: str, timeout: float) -> re.Match:
        """Waits until a stdout line matches the regex `pattern`; fails if the process exits."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cv:
            while True:
                while seen < len(self.stdout_lines):
                    m = rx.search(self.stdout_lines[seen])
                    seen += 1
                    if m:
                        return m
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode} before printing "
                                         f"/{pattern}/; stderr tail:\n{self.stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name} printed no line matching /{pattern}/ within {timeout}s; "
                                         f"stdout: {self.stdout_lines[-10:]}; stderr tail:\n{self.stderr_tail()}")
                self._cv.wait(min(left, 0.2))

    def lines(self) -> list[str]:
        with self._cv:
            return list(self.stdout_lines)

    def stderr_tail(self, n: int = 30) -> str:
        try:
            if not self._stderr_file.closed:
                self._stderr_file.flush()
            return "\n".join(self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM and wait; SIGKILL if it will not go. The signal goes to the child's process
        group (its own session), so that a wrapper such as `faketime`, which forks rather than
        execs, takes its program with it; the exit status is the group's last to go: the program's
        when the wrapper passes it on, else the wrapper's."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(5)
        self._wait_group_gone(timeout)
        self._close()
        return self.proc.returncode

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(10)
        self._wait_group_gone(10)
        self._close()

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _wait_group_gone(self, timeout: float) -> None:
        """Until no process of the child's group is left (a wrapper's program may outlive it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            if time.monotonic() >= deadline:
                self._signal_group(signal.SIGKILL)
                return
            time.sleep(0.05)

    def _close(self) -> None:
        self._reader.join(timeout=5)
        if not self._stderr_file.closed:
            self._stderr_file.close()


def clear_stale_faketime() -> None:
    """libfaketime's wrapper names its semaphore and shared memory by its pid and removes them
    when it exits; one killed (SIGKILL at a test's end) leaves them in /dev/shm, and a later
    wrapper given the same pid then fails (`sem_open: File exists`). Those of dead pids go."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return
    for f in list(shm.glob("sem.faketime_sem_*")) + list(shm.glob("faketime_shm_*")):
        pid = f.name.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                f.unlink()
            except OSError:
                pass


class Broker:
    """The real broker as a child process, in its own tmp dir with its own config and db.

    With `secure` it runs as shipped, CURVE on: `muster keys init` writes the broker's and the
    sample peers' keys under workdir/data/keys (as `make run` does); otherwise `--insecure`."""

    def __init__(self, workdir: Path, *, heartbeat: str | None = None, resend_after: str | None = None,
                 port: int | None = None, secure: bool = False, prefix: list[str] | None = None, args: list[str] | None = None):
        self.workdir = workdir
        self.secure = secure
        # A command the broker runs under, e.g. ["faketime", "@2027-06-15 10:00:00"] for a broker
        # whose clock says another date (libfaketime; black-box calendar tests).
        self.prefix = prefix or []
        # More options of `muster broker` (e.g. ["--metrics", "127.0.0.1:9400"]).
        self.args = args or []
        self.keys_dir = workdir / "data" / "keys"
        self.config = copy_config(workdir, heartbeat=heartbeat, resend_after=resend_after)
        self.db = workdir / "muster.db"
        self.port = port or free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.child: _Child | None = None
        self.starts = 0

    def start(self, timeout: float = 20) -> "Broker":
        assert self.child is None or not self.child.alive, "broker already running"
        self.starts += 1
        if self.prefix[:1] == ["faketime"]:
            clear_stale_faketime()
        if self.secure:
            r = run_cli("keys", "init", "--config", str(self.config), cwd=self.workdir)
            assert r.returncode == 0, f"muster keys init failed:\n{r.stdout}\n{r.stderr}"
        self.child = _Child(self.prefix + [str(MUSTER_BIN), "broker", "--config", str(self.config), "--db", str(self.db),
                             "--endpoint", self.endpoint] + ([] if self.secure else ["--insecure"]) + self.args,
                            cwd=self.workdir, name=f"broker-{self.starts}", log_dir=self.workdir)
        m = self.child.wait_line(r"listening on (\S+)", timeout)
        assert m.group(1) == self.endpoint, f"broker bound {m.group(1)}, expected {self.endpoint}"
        return self

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM; returns the exit status."""
        if self.child is None:
            return 0
        return self.child.stop(timeout)

    def kill9(self) -> None:
        if self.child is not None:
            self.child.kill9()

    @property
    def alive(self) -> bool:
        return self.child is not None and self.child.alive

    def stderr_tail(self, n: int = 40) -> str:
        return self.child.stderr_tail(n) if self.child else ""

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Runs a CLI subcommand that talks to this broker (adds --endpoint, and the operator's
        key files or --insecure)."""
        keys = (["--server-key", str(self.keys_dir / "broker.pub"), "--key", str(self.keys_dir / "operator.key")]
                if self.secure else ["--insecure"])
        return run_cli(*args, "--endpoint", self.endpoint, *keys, timeout=timeout, cwd=self.workdir)

    def curve(self, name: str) -> "Curve":
        """CURVE keys for a python peer using the key pair data/keys/NAME.key."""
        own = read_key(self.keys_dir / f"{name}.key")
        return Curve(read_key(self.keys_dir / "broker.pub")["public"], own["public"], own["secret"])

    def reload_peers(self) -> subprocess.CompletedProcess:
        """`muster keys reload`: checks peers.yaml and SIGHUPs this broker."""
        return run_cli("keys", "reload", "--config", str(self.config), "--db", str(self.db), cwd=self.workdir)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return db_query(self.db, sql, params)


def raw_exchange(sock: zmq.Socket, frames: list[bytes], timeout: float = 5) -> tuple[str, dict]:
    """Sends raw frames and returns the (command, parsed body) of the one reply."""
    sock.send_multipart(frames)
    assert sock.poll(int(timeout * 1000), zmq.POLLIN), f"no answer to {frames!r}"
    got = sock.recv_multipart()
    assert len(got) == 3 and got[0] == VERSION, got
    return got[1].decode(), json.loads(got[2])


def read_key(path: Path) -> dict[str, str]:
    """A key file of `muster keys gen`: {"public": …, "secret": …} (secret only in .key)."""
    out = {}
    for line in path.read_text(encoding="ascii").splitlines():
        k, _, v = line.partition(":")
        if v:
            out[k.strip()] = v.strip()
    return out


class Curve:
    """A CURVE client's keys (Z85 text): the broker's public key and the peer's own pair."""

    def __init__(self, server_public: str, public: str, secret: str):
        self.server_public, self.public, self.secret = server_public, public, secret

    @staticmethod
    def generate(server_public: str) -> "Curve":
        """A fresh key pair nobody authorized."""
        pub, sec = zmq.curve_keypair()
        return Curve(server_public, pub.decode("ascii"), sec.decode("ascii"))

    def apply(self, sock: zmq.Socket) -> None:
        sock.curve_serverkey = self.server_public.encode("ascii")
        sock.curve_publickey = self.public.encode("ascii")
        sock.curve_secretkey = self.secret.encode("ascii")


class Process(_Child):
    """Any other child process (adapters, helper scripts)."""

    def __init__(self, args: list[str], cwd: Path, name: str, env: dict[str, str] | None = None):
        super().__init__(args, cwd=cwd, name=name, log_dir=cwd, env=env)


# --------------------------------------------------------------------------------------------
# a MUSTER/1 peer in pure pyzmq


class Reply:
    """A message from the broker: its command, parsed body and the body's exact bytes."""

    def __init__(self, command: str, raw: bytes):
        self.command = command
        self.raw = raw
        try:
            self.body = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.body = {"_unparsed": raw.decode("utf-8", "replace")}

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default) if isinstance(self.body, dict) else default

    @property
    def code(self) -> str | None:
        return self.get("code") if self.command == "ERROR" else None

    def __repr__(self) -> str:
        return f"{self.command} {self.raw.decode('utf-8', 'replace')[:400]}"


class Peer:
    """One DEALER connection speaking MUSTER/1.

    Replies (anything with a "re") are filed by request id; pushes are queued for
    `expect_push`; HEARTBEATs are counted. While it waits the peer sends HEARTBEAT whenever it
    has been silent for half the broker's heartbeat interval. With `auto_received` every push is
    answered with RECEIVED as soon as it arrives. Repeated deliveries (same "delivery") are
    counted but queued only once."""

    _ids = itertools.count(1)

    def __init__(self, endpoint: str, adapter: str, roles: list[str], *, agency: str | None = None,
                 window: int | None = None, auto_received: bool = False, ctx: zmq.Context | None = None,
                 curve: Curve | None = None):
        self.endpoint = endpoint
        self.curve = curve
        self.adapter = adapter
        self.roles = roles
        self.agency = agency
        self.window = window
        self.auto_received = auto_received
        self.ctx = ctx or zmq.Context.instance()
        self.sock: zmq.Socket = self._connect()
        self.replies: dict[str, deque[Reply]] = {}
        self.errors_without_re: list[Reply] = []
        self.pushes: deque[Reply] = deque()
        self.all_pushes: list[Reply] = []
        self.deliveries_seen: dict[str, int] = {}
        self.heartbeats_received = 0
        self.heartbeat_ms = 5000
        self.welcome: Reply | None = None
        self.last_sent = time.monotonic()
        self.on_push: Callable[[Reply], None] | None = None

    def _connect(self) -> zmq.Socket:
        s = self.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        if self.curve is not None:
            self.curve.apply(s)
        s.connect(self.endpoint)
        return s

    def next_id(self, prefix: str = "r") -> str:
        return f"{prefix}-{self.adapter}-{next(Peer._ids)}"

    # -- sending

    def send_frames(self, frames: list[bytes]) -> None:
        self.sock.send_multipart(frames)
        self.last_sent = time.monotonic()

    def send(self, command: str, body: dict | bytes | str) -> None:
        if isinstance(body, dict):
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        else:
            raw = body
        self.send_frames([VERSION, command.encode("ascii"), raw])

    def received(self, deliveries: Iterable[str]) -> None:
        ds = list(deliveries)
        if ds:
            self.send("RECEIVED", {"deliveries": ds})

    def heartbeat(self) -> None:
        self.send("HEARTBEAT", {})

    def bye(self) -> None:
        self.send("BYE", {})

    # -- receiving

    def _handle(self, frames: list[bytes]) -> None:
        assert len(frames) == 3, f"broker sent {len(frames)} frames: {frames!r}"
        assert frames[0] == VERSION, f"broker sent version {frames[0]!r}"
        command = frames[1].decode("ascii")
        msg = Reply(command, frames[2])
        if command == "HEARTBEAT":
            self.heartbeats_received += 1
            return
        if command in PUSH_COMMANDS:
            d = msg.get("delivery")
            first = d not in self.deliveries_seen
            self.deliveries_seen[d] = self.deliveries_seen.get(d, 0) + 1
            if self.auto_received and d is not None:
                self.received([d])
            if first:
                self.pushes.append(msg)
                self.all_pushes.append(msg)
                if self.on_push:
                    self.on_push(msg)
            return
        re_ = msg.get("re")
        if re_ is None:
            self.errors_without_re.append(msg)
        else:
            self.replies.setdefault(re_, deque()).append(msg)

    def pump(self, timeout: float = 0) -> None:
        """Handles everything that has arrived (waiting up to `timeout` for the first message),
        then sends a heartbeat if one is due."""
        if self.sock.poll(int(timeout * 1000), zmq.POLLIN):
            while True:
                try:
                    frames = self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self._handle(frames)
        if self.welcome is not None and time.monotonic() - self.last_sent >= self.heartbeat_ms / 2000:
            self.heartbeat()

    def wait_reply(self, request_id: str, timeout: float = 10) -> Reply:
        deadline = time.monotonic() + timeout
        while not self.replies.get(request_id):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.adapter}: no reply to {request_id!r} within {timeout}s")
            self.pump(min(left, 0.1))
        q = self.replies[request_id]
        r = q.popleft()
        if not q:
            del self.replies[request_id]
        return r

    def request(self, command: str, body: dict, timeout: float = 10) -> Reply:
        """Sends a request (adding an "id" if absent) and waits for the reply whose "re" is it;
        pushes arriving meanwhile are queued."""
        body = dict(body)
        body.setdefault("id", self.next_id(command.lower()))
        self.send(command, body)
        return self.wait_reply(body["id"], timeout)

    def hello(self, timeout: float = 10, **extra: Any) -> Reply:
        body: dict[str, Any] = {"id": self.next_id("hello"), "adapter": self.adapter, "roles": self.roles,
                                "software": "muster-integration-tests/python"}
        if self.agency is not None:
            body["agency"] = self.agency
        if self.window is not None:
            body["window"] = self.window
        body.update(extra)
        r = self.request("HELLO", body, timeout)
        assert r.command == "WELCOME", f"HELLO answered {r!r}"
        self.welcome = r
        self.heartbeat_ms = int(r["heartbeat_ms"])
        return r

    def expect_push(self, command: str = "DISPATCH", timeout: float = 10,
                    where: Callable[[Reply], bool] | None = None) -> Reply:
        """Waits for (and removes from the queue) the first push of this command matching `where`."""
        deadline = time.monotonic() + timeout
        while True:
            for m in list(self.pushes):
                if m.command == command and (where is None or where(m)):
                    self.pushes.remove(m)
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.adapter}: no {command} push within {timeout}s; queued: {list(self.pushes)!r}")
            self.pump(min(left, 0.1))

    def reconnect(self) -> None:
        """A fresh DEALER (new routing id) to the same endpoint; say hello() afterwards."""
        self.sock.close(0)
        self.sock = self._connect()
        self.welcome = None

    def close(self) -> None:
        if not self.sock.closed:
            self.sock.close(0)

    def __enter__(self) -> "Peer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session", autouse=True)
def _muster_binary() -> Path:
    if not MUSTER_BIN.is_file() or not os.access(MUSTER_BIN, os.X_OK):
        pytest.exit(f"muster binary not found at {MUSTER_BIN} (set MUSTER_BIN)", returncode=3)
    return MUSTER_BIN


@pytest.fixture
def zmq_ctx():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def make_broker(tmp_path: Path, request):
    """make_broker(heartbeat="1s", resend_after="1s") -> a started Broker; stopped at teardown.
    On failure the broker's stderr tail is printed."""
    brokers: list[Broker] = []

    def make(start: bool = True, **kw: Any) -> Broker:
        b = Broker(tmp_path / f"b{len(brokers)}", **kw) if brokers else Broker(tmp_path, **kw)
        brokers.append(b)
        return b.start() if start else b

    yield make
    for b in brokers:
        if b.alive:
            b.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            sys.stderr.write(f"\n--- broker stderr ({b.workdir}) ---\n{b.stderr_tail(60)}\n")


@pytest.fixture
def broker(make_broker) -> Broker:
    return make_broker()


@pytest.fixture
def processes():
    """A list to append child `Process`es to; all are stopped (SIGTERM, then SIGKILL) at teardown."""
    procs: list[Process] = []
    yield procs
    for p in procs:
        try:
            p.stop(timeout=5)
        except Exception:  # noqa: BLE001 - teardown must go on
            pass


@pytest.fixture
def peers(zmq_ctx):
    """peers(endpoint, adapter, roles, **kw) -> a Peer closed at teardown."""
    made: list[Peer] = []

    def make(endpoint: str, adapter: str, roles: list[str], **kw: Any) -> Peer:
        p = Peer(endpoint, adapter, roles, ctx=zmq_ctx, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# --------------------------------------------------------------------------------------------
# the intake adapters' HTTP APIs (plugin hotline12345, plugin petition)

INTAKE_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(address: str, path: str) -> tuple[int, str]:
    """GET http://ADDRESS/PATH, never through a proxy: (status, body); (0, "") if nothing answers."""
    try:
        with INTAKE_HTTP.open(f"http://{address}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def chromium(width: int, height: int):
    """Headless Chromium (Debian's chromium and chromium-driver, driven by selenium) in a window of
    width×height, Chinese first; skips the test where they are not installed."""
    import pytest
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed (scripts/install-deps.sh)")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}", "--lang=zh-CN",
                "--no-proxy-server", "--hide-scrollbars", "--force-device-scale-factor=1"]:
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def http_healthy(listen: str) -> bool:
    """GET /health of an adapter's API answers 200."""
    try:
        with INTAKE_HTTP.open(f"http://{listen}/health", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def start_intake(broker: "Broker", config: Path, name: str, listen: str) -> "Process":
    """`muster adapter --config CONFIG` in the broker's folder, once its API answers /health."""
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=name)
    wait_until(lambda: http_healthy(listen) or not p.alive, 15, f"{name}'s GET /health")
    assert p.alive, f"the adapter exited: {p.stderr_tail()}"
    return p


def signed_call(listen: str, method: str, path: str, doc: dict | None = None, *, client: str, secret: bytes,
                raw: bytes | None = None, bearer: str | None = None, signed: bool = True) -> tuple[int, dict]:
    """One call of an intake API as its client: HMAC-signed (X-Muster-Timestamp, X-Muster-Signature over
    timestamp.body), a bearer key, or (signed=False) nothing; answers (status, JSON)."""
    body = raw if raw is not None else (json.dumps(doc, ensure_ascii=False).encode() if doc is not None else b"")
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Muster-Client": client}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    elif signed:
        headers.update({"X-Muster-Timestamp": ts,
                        "X-Muster-Signature": "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()})
    req = urllib.request.Request(f"http://{listen}{path}", data=body if method == "POST" else None, headers=headers, method=method)
    try:
        with INTAKE_HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
