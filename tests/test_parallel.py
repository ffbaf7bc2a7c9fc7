"""tbmto.parallel.kmap: order, serial fallback, MPI bitwise reproducibility."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tbmto.parallel import kmap

SCRIPTS = Path(__file__).parent / "mpi_scripts"


def test_serial_map_keeps_item_order():
    items = [3.0, -1.0, 2.5, 7.0, 0.0]
    assert kmap(lambda x: x * x + 1, items, progress=False) == [x * x + 1 for x in items]
    assert kmap(str, iter(range(4)), progress=True, desc="test") == ["0", "1", "2", "3"]
    assert kmap(abs, [], progress=False) == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="func must be callable"):
        kmap(3, [1, 2])
    with pytest.raises(ValueError, match="comm must be an mpi4py communicator"):
        kmap(abs, [1, 2], comm=object())


def _run(args, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.mpi
def test_two_ranks_bitwise_equal_to_one_rank():
    mpiexec = shutil.which("mpiexec")
    assert mpiexec is not None, "mpiexec not on PATH: the mpich wheel is a declared dependency"
    script = str(SCRIPTS / "ksum_transport.py")
    serial = _run([sys.executable, script]).strip()
    parallel = _run([mpiexec, "-n", "2", sys.executable, script]).strip()
    assert serial.startswith("size=1 ")
    assert parallel.startswith("size=2 ")
    assert serial.split(" ", 1)[1] == parallel.split(" ", 1)[1]


@pytest.mark.mpi
def test_nested_transport_two_ranks_bitwise_equal_to_one_rank(tmp_path, spin_split_cu):
    """Nested lengths and the damping tensor through tbmto.transport.compute: the per-length
    k sums are bitwise independent of the number of ranks."""
    cu = Path(__file__).parent / "data" / "cu_rslmto.json"
    mag = tmp_path / "magnet.json"
    mag.write_text(json.dumps(spin_split_cu(json.loads(cu.read_text()))))
    mpiexec = shutil.which("mpiexec")
    assert mpiexec is not None, "mpiexec not on PATH: the mpich wheel is a declared dependency"
    script = [str(SCRIPTS / "nested_transport.py"), str(cu), str(mag)]
    serial = _run([sys.executable, *script]).strip()
    parallel = _run([mpiexec, "-n", "2", sys.executable, *script]).strip()
    assert serial.startswith("size=1 ") and parallel.startswith("size=2 ")
    assert serial.split(" ", 1)[1] == parallel.split(" ", 1)[1]
    assert serial.count("L") == 3


@pytest.mark.mpi
def test_failure_on_one_rank_is_raised_on_all_ranks():
    mpiexec = shutil.which("mpiexec")
    assert mpiexec is not None, "mpiexec not on PATH: the mpich wheel is a declared dependency"
    out = _run([mpiexec, "-n", "2", sys.executable, str(SCRIPTS / "kmap_error.py")], timeout=60)
    lines = sorted(out.strip().splitlines())
    assert len(lines) == 2
    for r, line in enumerate(lines):
        assert line.startswith(f"rank={r} caught=kmap: func failed for item 3 on rank 1")
        assert "deliberate failure" in line
