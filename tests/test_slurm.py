"""The tiny study on a real (one-node) SLURM cluster through the project's SLURM profile.

``pytest -m slurm`` (run by .ci/run; needs root and the Debian packages of
tests/slurm_cluster.APT_PACKAGES). The fixture starts munged, MariaDB + slurmdbd, slurmctld and
slurmd on localhost (tests/slurm_cluster.py) and stops them afterwards, also on failure.
Without the packages or without root the test is skipped, unless TBMTO_REQUIRE_SLURM=1 (as in
CI), where it fails instead.

The study runs with ``snakemake --profile workflow/profiles/slurm`` (executor
snakemake-executor-plugin-slurm, the ``[cluster]`` extra) and ``mpi.ranks: 2``: every potential,
structure and transport job is a SLURM job; each transport job is an allocation of 2 tasks in
which ``srun --mpi=pmi2 -n 2 tbmto transport`` runs 2 MPI ranks of one world (the profile's
launcher). The test asserts from ``sacct`` that the jobs ran under SLURM and completed (per
rule, with the transport job steps of 2 tasks), that every transport result was computed by
2 ranks, and that transport.csv equals the local run's (the ``tiny_run`` fixture: 1 rank, no
scheduler) bit for bit, except its ``seconds`` column (wall time of each run).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from slurm_cluster import APT_PACKAGES, LocalSlurm, missing_executables

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parent.parent


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the one-node SLURM cluster needs root (slurmd runs the jobs)"
    missing = missing_executables()
    if missing:
        return f"missing {', '.join(missing)}: apt-get install {APT_PACKAGES} (bash .ci/run does)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return 'snakemake-executor-plugin-slurm not installed: pip install -e ".[cluster]"'
    return None


@pytest.fixture(scope="module")
def cluster():
    """A running one-node cluster; afterwards no daemon or job step of it is left."""
    why = _unavailable()
    if why:
        if os.environ.get("TBMTO_REQUIRE_SLURM") == "1":
            pytest.fail(why)
        pytest.skip(why)
    c = LocalSlurm(cpus=2)
    with c:
        yield c
    alive = [name for name, p in c.procs.items() if p.poll() is None]
    assert not alive and not c._our_pids(), f"left running: {alive} {c._our_pids()}"
    shutil.rmtree(c.dir, ignore_errors=True)


def _rows_without(path: Path, column: str) -> list[list[str]]:
    """The CSV rows of ``path`` as exact strings, without ``column``."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    i = rows[0].index(column)
    return [r[:i] + r[i + 1:] for r in rows]


def test_tiny_study_on_slurm_equals_the_local_run(cluster, tiny_run, tmp_path):
    local_work, _, plan = tiny_run
    work = tmp_path / "slurm"
    work.mkdir()
    cfg = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())
    cfg["mpi"] = {"ranks": 2, "launcher": "mpiexec"}  # 2 ranks per transport job; the profile launches with srun
    path = work / "tiny_mpi2.yaml"
    path.write_text(yaml.safe_dump(cfg))
    from tbmto.cli import snakefile_path

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile_path()), "-d", str(work),
           "--profile", str(REPO / "workflow" / "profiles" / "slurm"), "--configfile", str(path),
           "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2",
           "--latency-wait", "5"]
    t0 = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200,
                         env=cluster.env({**os.environ, "OMP_NUM_THREADS": "1"}))
    wall = time.monotonic() - t0
    if res.returncode != 0:
        logs = "\n".join(p.read_text()[-1500:] for p in sorted((work / ".snakemake" / "slurm_logs").rglob("*.log"))[-3:])
        pytest.fail(f"snakemake on SLURM failed ({wall:.0f} s):\n{res.stderr[-5000:]}\n{logs}\n{cluster.logs()}")

    # sacct: every non-local job ran under SLURM and completed; the transport steps had 2 tasks
    time.sleep(2)  # slurmctld hands the last records to slurmdbd asynchronously
    fmt = "JobID,JobName%40,Comment%80,State,ExitCode,AllocCPUS,NTasks,Elapsed"
    acct = cluster.run("sacct", "-a", "-P", "-n", "--format=" + fmt, "-S", "now-2hours").stdout
    print(f"snakemake on SLURM: {wall:.0f} s\n" + cluster.run("sacct", "-a", "-X", "--format=" + fmt,
                                                             "-S", "now-2hours").stdout)
    jobs = [line.split("|") for line in acct.splitlines() if line and "." not in line.split("|")[0]]
    steps = [line.split("|") for line in acct.splitlines() if line and "." in line.split("|")[0]]
    rules = Counter(j[2].split("_wildcards")[0].removeprefix("rule_") for j in jobs)
    n_transport = len(plan.transport_files()) // len(plan.lengths)
    assert rules == {"potential": len(plan.potentials()), "structure": len(plan.structure_files()),
                     "transport": n_transport, **({"pumping": len(plan.pumping_files())} if plan.spin_pumping else {})}, acct
    assert all(j[3] == "COMPLETED" and j[4] == "0:0" for j in jobs), acct
    transport_ids = {j[0] for j in jobs if j[2].startswith("rule_transport")}
    assert all(j[5] == "2" for j in jobs if j[0] in transport_ids), acct  # 2 CPUs allocated per transport job
    mpi_steps = [s for s in steps if s[0].split(".")[0] in transport_ids and s[1] == "tbmto"]
    assert len(mpi_steps) == n_transport and all(s[6] == "2" and s[3] == "COMPLETED" for s in mpi_steps), acct

    # every transport result: 2 MPI ranks, on this host; the tables equal the local run's
    for f in plan.transport_files():
        prov = json.loads((work / f).read_text())["provenance"]
        assert prov["mpi_ranks"] == 2, (f, prov)
    name = Path(plan.root) / "tables" / "transport.csv"
    got, ref = _rows_without(work / name, "seconds"), _rows_without(local_work / name, "seconds")
    assert got[0] == ref[0] and len(got) == len(ref) == len(plan.transport_files()) + 1
    assert got == ref  # every digit of every other column
