"""A throw-away one-node SLURM cluster on localhost for the ``slurm`` test layer.

:class:`LocalSlurm` starts, from the Debian 12 packages (``slurm-wlm`` 22.05, ``slurmdbd``,
``munge``, ``mariadb-server``; ``.ci/run`` installs them with apt-get), every daemon as a plain
child process in a private temporary directory — there is no systemd and nothing under /etc is
touched:

* ``munged`` with a fresh key and its own socket (``AuthInfo=socket=...``, and
  ``AccountingStoragePass=<socket>``: the connections to slurmdbd take their munge socket from
  that key, not from AuthInfo);
* ``mariadbd`` (a fresh data directory, TCP on 127.0.0.1 only) and ``slurmdbd``: job accounting,
  so that ``sacct`` works. Slurm 22.05 has no file-based accounting storage any more
  (``accounting_storage/filetxt`` is gone; ``accounting_storage/none`` makes sacct refuse to
  run, and ``jobcomp/filetxt`` is not read by sacct), so slurmdbd + MariaDB is the only way to
  ``sacct``; it costs about 10 s of start-up;
* ``slurmctld`` and ``slurmd``: one node named after this host, ``CPUs=2`` and the machine's
  memory (``RealMemory``), ``select/cons_tres`` with cores and memory as consumables,
  ``proctrack/linuxproc`` and ``task/none`` (no cgroups needed), ``MpiDefault=none`` as on
  many sites (the SLURM profile asks for ``srun --mpi=pmi2`` itself, which makes the MPICH of
  the mpich wheel start as one MPI world), job comments stored (sacct shows the rule of each
  job).

Clients find the cluster through ``SLURM_CONF`` (:meth:`LocalSlurm.env`) and through
``/etc/slurm/slurm.conf``, a link to the private slurm.conf made for the cluster's lifetime: the
SLURM executor's job step (snakemake-executor-plugin-slurm-jobstep) removes every ``SLURM_*``
variable but a few job ids before it calls ``srun``, so the commands inside a job only find the
compiled-in default path. The cluster refuses to start when that path exists already (a real
installation), and removes its link when it stops. :meth:`stop` cancels every job, stops the
daemons (TERM, then KILL) and kills, by pid, any process that still carries this cluster's
``SLURM_CONF`` or its (unique) ``SLURM_CLUSTER_NAME`` in its environment (job steps), so
nothing is left running; it is safe to call after a failed start. Needs root.
"""


from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "mungekey", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sacct",
           "sacctmgr", "srun", "sinfo")
"""Executables the cluster needs (Debian: munge, mariadb-server, slurmdbd, slurm-wlm)."""

APT_PACKAGES = "slurm-wlm slurmdbd munge mariadb-server"

SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
"""The compiled-in default configuration path of the Debian slurm-wlm client commands."""


def missing_executables() -> list[str]:
    """The :data:`DAEMONS` not found on PATH (``/usr/sbin`` included)."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    return [d for d in DAEMONS if shutil.which(d, path=path) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    """Total memory of this machine in MB (/proc/meminfo), minus 5 % that slurmd reserves."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(int(line.split()[1]) / 1024 * 0.95)
    raise RuntimeError("MemTotal not in /proc/meminfo")


class LocalSlurm:
    """One-node SLURM cluster with accounting (see the module docstring).

    Parameters
    ----------
    cpus : int
        CPUs of the node (2: the CI machine).
    base : path-like, optional
        Parent of the private directory (default: the system temporary directory; unix socket
        paths must stay below ~100 characters).
    """

    def __init__(self, cpus: int = 2, base: str | os.PathLike | None = None):
        self.cpus = int(cpus)
        self.dir = Path(tempfile.mkdtemp(prefix="tbmto-slurm-", dir=base))
        self.procs: dict[str, subprocess.Popen] = {}
        self.host = socket.gethostname().split(".")[0]
        self.cluster = "tbmto" + os.urandom(3).hex()  # unique: marks the job processes of this cluster
        self.conf = self.dir / "slurm.conf"
        self.memory_mb = _memory_mb()

    # ------------------------------------------------------------------ environment

    def env(self, base: dict | None = None) -> dict:
        """``base`` (default: os.environ) with this cluster's ``SLURM_CONF`` and /usr/sbin on PATH."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = env.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
        return env

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a client command (sinfo, sacct, ...) against this cluster."""
        res = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=self.env())
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}\n{self.logs()}")
        return res

    def logs(self, tail: int = 1500) -> str:
        """The last characters of every daemon log (for failure messages)."""
        out = []
        for p in sorted(self.dir.glob("*.log")):
            out.append(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}")
        return "\n".join(out)

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.dir / f"{name}.out", "wb")
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env(),
                                            start_new_session=True)
        log.close()

    def _wait(self, what: str, ok, timeout: float = 60) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    out = (self.dir / f"{name}.out").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}:\n{out}\n"
                                       f"{self.logs()}")
            if ok():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")

    # ------------------------------------------------------------------ start

    def start(self) -> "LocalSlurm":
        """Write the configuration and start munged, mariadbd, slurmdbd, slurmctld, slurmd."""
        d = self.dir
        if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
            raise RuntimeError(f"{SYSTEM_CONF} exists: a SLURM installation is configured on this machine; "
                               "the test cluster does not replace it")
        for sub in ("state", "spool", "db", "run"):
            (d / sub).mkdir()
        os.chmod(d, 0o755)
        # munge: a fresh key, a private socket
        key = d / "munge.key"
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True, capture_output=True, env=self.env())
        os.chmod(key, 0o400)
        sock = d / "run" / "munge.sock"
        self._spawn("munged", ["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={sock}",
                               f"--pid-file={d / 'run' / 'munged.pid'}", f"--log-file={d / 'munged.log'}",
                               f"--seed-file={d / 'munge.seed'}"])
        self._wait("munged", lambda: sock.exists())

        # MariaDB for slurmdbd: TCP on 127.0.0.1 only, user slurm with a password
        db_port, dbd_port, ctld_port, slurmd_port = (_free_port() for _ in range(4))
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={d / 'db'}", "--user=root",
                        "--auth-root-authentication-method=socket", "--skip-test-db"],
                       check=True, capture_output=True, env=self.env(), timeout=120)
        dbsock = d / "run" / "mysql.sock"
        self._spawn("mariadbd", ["mariadbd", "--no-defaults", f"--datadir={d / 'db'}", f"--socket={dbsock}",
                                 "--bind-address=127.0.0.1", f"--port={db_port}", "--skip-name-resolve", "--user=root",
                                 f"--pid-file={d / 'run' / 'mariadbd.pid'}", f"--log-error={d / 'mariadbd.log'}",
                                 "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
                                 "--innodb-lock-wait-timeout=900", "--max-connections=50"])
        self._wait("mariadbd", lambda: dbsock.exists(), timeout=60)
        password = os.urandom(8).hex()
        sql = (f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{password}'; "
               "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;")
        subprocess.run(["mariadb", "--no-defaults", f"--socket={dbsock}", "-u", "root", "-e", sql],
                       check=True, capture_output=True, env=self.env(), timeout=60)

        auth = f"AuthType=auth/munge\nAuthInfo=socket={sock}\n"
        dbd_conf = d / "slurmdbd.conf"  # slurmdbd reads it next to $SLURM_CONF
        dbd_conf.write_text(
            auth + f"DbdHost=localhost\nDbdAddr=127.0.0.1\nDbdPort={dbd_port}\nSlurmUser=root\n"
            f"PidFile={d / 'run' / 'slurmdbd.pid'}\nLogFile={d / 'slurmdbd.log'}\nDebugLevel=info\n"
            f"StorageType=accounting_storage/mysql\nStorageHost=127.0.0.1\nStoragePort={db_port}\n"
            f"StorageUser=slurm\nStoragePass={password}\nStorageLoc=slurm_acct_db\n")
        os.chmod(dbd_conf, 0o600)
        self.conf.write_text(
            f"ClusterName={self.cluster}\nSlurmctldHost={self.host}(127.0.0.1)\nSlurmUser=root\nSlurmdUser=root\n"
            + auth
            + f"SlurmctldPort={ctld_port}\nSlurmdPort={slurmd_port}\n"
            f"StateSaveLocation={d / 'state'}\nSlurmdSpoolDir={d / 'spool'}\n"
            f"SlurmctldPidFile={d / 'run' / 'slurmctld.pid'}\nSlurmdPidFile={d / 'run' / 'slurmd.pid'}\n"
            f"SlurmctldLogFile={d / 'slurmctld.log'}\nSlurmdLogFile={d / 'slurmd.log'}\n"
            "SlurmctldDebug=info\nSlurmdDebug=info\n"
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSwitchType=switch/none\n"
            "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core_Memory\n"
            "MpiDefault=none\nJobAcctGatherType=jobacct_gather/linux\nJobAcctGatherFrequency=30\n"
            "AccountingStoreFlags=job_comment\n"
            f"AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=localhost\n"
            f"AccountingStoragePort={dbd_port}\nAccountingStoragePass={sock}\nJobCompType=jobcomp/none\n"
            "ReturnToService=2\nMinJobAge=300\nSchedulerType=sched/backfill\nSchedulerParameters=sched_interval=2\n"
            "InactiveLimit=0\nKillWait=5\nWaitTime=0\nSlurmctldTimeout=30\nSlurmdTimeout=60\n"
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN\n"
            f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP\n")

        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)
        self._linked = True
        self._spawn("slurmdbd", ["slurmdbd", "-D"])
        self._wait("slurmdbd", lambda: self.run("sacctmgr", "-n", "list", "cluster", check=False).returncode == 0,
                   timeout=90)
        self.run("sacctmgr", "-i", "add", "cluster", self.cluster, check=False)
        self.run("sacctmgr", "-i", "add", "account", "tbmto", f"cluster={self.cluster}", "Description=test",
                 "Organization=tbmto", check=False)
        self.run("sacctmgr", "-i", "add", "user", "root", "account=tbmto", f"cluster={self.cluster}", check=False)
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.host])

        def node_idle():
            res = self.run("sinfo", "-h", "-N", "-o", "%t", check=False)
            return res.returncode == 0 and res.stdout.strip() in ("idle", "mix")

        self._wait("the node to be idle", node_idle, timeout=90)
        return self

    # ------------------------------------------------------------------ stop

    def _our_pids(self) -> list[int]:
        """Pids of processes whose environment carries this cluster's SLURM_CONF (job steps)."""
        marks = {f"SLURM_CONF={self.conf}".encode(), f"SLURM_CLUSTER_NAME={self.cluster}".encode()}
        pids = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit() or int(p.name) == os.getpid():
                continue
            try:
                if marks & set((p / "environ").read_bytes().split(b"\0")):
                    pids.append(int(p.name))
            except OSError:
                continue
        return pids

    def stop(self) -> list[str]:
        """Cancel all jobs, stop every daemon and job step; returns what had to be killed."""
        killed = []
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "-u", "root", check=False, timeout=20)
        for name in ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                killed.append(name)
        for pid in self._our_pids():  # job steps left behind (slurmstepd, the job's processes)
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(f"pid {pid}")
            except ProcessLookupError:
                pass
        if getattr(self, "_linked", False) and SYSTEM_CONF.is_symlink():
            SYSTEM_CONF.unlink()
            self._linked = False
        return killed

    def __enter__(self) -> "LocalSlurm":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
