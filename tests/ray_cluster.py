"""A private Ray cluster on loopback for the tests and the benchmark: `ray start --head --block` with its own temp
folder and its own free ports, watched by a supervisor process so that it never outlives whoever started it.

    with LoopbackCluster(cpus=2) as cluster:
        ... ray.init(address=cluster.address) or `imagestudio batch ... --cluster <cluster.address>` ...

Stopping (the `with` block's end, or the starter's death, even a SIGKILL) ends `ray start` (which stops its GCS,
raylet and workers), then kills by pid whatever process still names the cluster's temp folder on its command line,
and removes the folder. Nothing else on the machine is touched (never `ray stop`, which ends every Ray of the user).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_START_TIMEOUT_S = 180.0  # `ray start` takes 10-40 s on two shared cores


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _has_ray_client() -> bool:
    return importlib.util.find_spec("grpc") is not None


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return parents


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def cluster_processes(temp_dir: str) -> list[int]:
    """Pids of the cluster's processes: those whose command line names `temp_dir` (Ray passes its session folder to
    each) and their descendants (workers rename themselves `ray::...`, which hides the folder)."""
    parents = _parents()
    roots = {pid for pid in parents if pid != os.getpid() and temp_dir.encode() in _cmdline(pid)
             and b"ray_cluster.py" not in _cmdline(pid)}
    found, changed = set(roots), True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(found)


class LoopbackCluster:
    def __init__(self, cpus: int = 2, env: dict[str, str] | None = None) -> None:
        self.cpus = cpus
        self.env = env or {}
        self.temp_dir = tempfile.mkdtemp(prefix="isray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
        self.port = 0
        self._supervisor: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> LoopbackCluster:
        (gcs, node_manager, object_manager, client, agent, agent_grpc, metrics, runtime_env, dashboard) = \
            _free_ports(9)
        workers = _free_ports(1)[0]  # a range of 40 above a free port: a collision only costs a worker retry
        self.port = gcs
        ray = str(Path(sys.executable).with_name("ray"))
        command = [ray, "start", "--head", "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1",
                   f"--port={gcs}", f"--num-cpus={self.cpus}", "--num-gpus=0", f"--temp-dir={self.temp_dir}",
                   "--include-dashboard=false", f"--dashboard-port={dashboard}",
                   f"--node-manager-port={node_manager}",
                   f"--object-manager-port={object_manager}",
                   f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={agent_grpc}",
                   f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={runtime_env}",
                   f"--min-worker-port={workers}", f"--max-worker-port={workers + 40}",
                   "--object-store-memory=100000000"]
        self.client_port = client if _has_ray_client() else None
        if self.client_port is not None:  # ray:// addresses: the head's client server (needs ray[client])
            command.append(f"--ray-client-server-port={client}")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "RAY_USAGE_STATS_ENABLED": "0",
               # Ray runs workers 15 nicer than itself: on a shared test machine they would starve behind
               # everything else, and the tests measure correctness, not priority.
               "RAY_worker_niceness": "0", **self.env}
        log = open(self.temp_dir + ".log", "wb")  # noqa: SIM115 - the supervisor's output
        self._supervisor = subprocess.Popen(
            [sys.executable, __file__, str(os.getpid()), self.temp_dir, *command], env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while b"Ray runtime started" not in self._log():
            if self._supervisor.poll() is not None or time.monotonic() > deadline:
                output = self._log().decode(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"the loopback Ray cluster did not start:\n{output}")
            time.sleep(0.2)
        return self

    def _log(self) -> bytes:
        try:
            return Path(self.temp_dir + ".log").read_bytes()
        except OSError:
            return b""

    def worker_pids(self, busy_with: str | None = None) -> list[int]:
        """The cluster's worker processes (children of its raylet); with `busy_with`, only those running a task of
        that name (Ray titles a worker `ray::<task name>` while it runs one, `ray::IDLE` otherwise)."""
        parents = _parents()
        raylets = {pid for pid in parents if b"raylet/raylet" in _cmdline(pid)
                   and self.temp_dir.encode() in _cmdline(pid)}
        workers = [pid for pid, parent in parents.items() if parent in raylets]
        if busy_with is None:
            return [pid for pid in workers if b"default_worker" in _cmdline(pid) or _cmdline(pid).startswith(b"ray::")]
        return [pid for pid in workers if _cmdline(pid).startswith(f"ray::{busy_with}".encode())]

    def stop(self) -> None:
        if self._supervisor is not None and self._supervisor.poll() is None:
            self._supervisor.send_signal(signal.SIGTERM)
            try:
                self._supervisor.wait(60)
            except subprocess.TimeoutExpired:
                self._supervisor.kill()
                self._supervisor.wait()
                _kill_all(self.temp_dir)
        self._supervisor = None
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(self.temp_dir + ".log")

    def __enter__(self) -> LoopbackCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_all(temp_dir: str) -> None:
    for pid in cluster_processes(temp_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _supervise(parent: int, temp_dir: str, command: list[str]) -> int:
    """Runs `ray start --block` until told to stop (SIGTERM) or until `parent` is gone; then cleans up."""
    stopping = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # a Ctrl-C in the test's terminal stops the cluster with the tests
    ray = subprocess.Popen(command)
    while not stopping and ray.poll() is None:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    if ray.poll() is None:
        ray.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            ray.wait(30)
        except subprocess.TimeoutExpired:
            ray.kill()
    deadline = time.monotonic() + 10
    while cluster_processes(temp_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    _kill_all(temp_dir)  # what did not stop in time, by pid
    shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(_supervise(int(sys.argv[1]), sys.argv[2], sys.argv[3:]))
