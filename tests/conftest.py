"""Test-session set-up shared by every test module.

One BLAS thread per process unless the caller chose otherwise: the physics kernels work on many
small dense blocks, where threaded BLAS on a small shared machine is up to 10× slower. This has to
run before numpy is imported, which is why it lives at the top of conftest.py.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import copy
import itertools
import json
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cubic_operations() -> list[np.ndarray]:
    """The 48 proper and improper rotations of the cube (signed permutation matrices)."""
    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            r = np.zeros((3, 3))
            r[np.arange(3), perm] = signs
            ops.append(r)
    return ops


def _spin_split_cu(cu: dict, d_up: float = -0.03, d_down: float = 0.19, xi_scale: float = 1.0) -> dict:
    """A fictitious magnetic species "Ni" (test-only): the Cu potentials file ``cu`` with the d
    band centres C_d shifted by ``d_up`` / ``d_down`` (Ry), moment 0.6 μB and ξ × ``xi_scale``."""
    d = copy.deepcopy(cu)
    sp = d["species"].pop("Cu")
    sp["C_Ry"]["up"][2] += d_up
    sp["C_Ry"]["down"][2] += d_down
    sp["moment_muB"] = 0.6
    sp["xi_Ry"] = [x * xi_scale for x in sp["xi_Ry"]]
    d["species"]["Ni"] = sp
    d["provenance"]["method"] = "fictitious test species (spin-split Cu), not a real material"
    return d


@pytest.fixture(scope="session")
def spin_split_cu():
    """Builder of a fictitious spin-split species from the Cu potentials (see ``_spin_split_cu``)."""
    return _spin_split_cu


@pytest.fixture(scope="session")
def pot_mag(tmp_path_factory, spin_split_cu):
    """Cu plus the fictitious spin-split species "Ni" (defaults of ``_spin_split_cu``), loaded."""
    from tbmto.potentials import load

    cu_path = Path(__file__).parent / "data" / "cu_rslmto.json"
    p = tmp_path_factory.mktemp("pot") / "magnet.json"
    p.write_text(json.dumps(spin_split_cu(json.loads(cu_path.read_text()))))
    return load(cu_path, p, linearisation="band_centre")


SCF_ELEMENTS = {"Cu": ("fcc", 3.524), "Ni": ("fcc", 3.524), "Fe": ("bcc", 2.87)}
"""Elements with session-wide self-consistent potentials files (lattice, a in Å); Cu at the Ni
lattice constant, so that the two make Cu | Ni | Cu stacks."""


@pytest.fixture(scope="session")
def scf_files(tmp_path_factory) -> dict:
    """Self-consistent potentials files (format 2, with V_σ(r)) of fcc Cu and Ni (3.524 Å) and bcc Fe,
    from ``tbmto.asa.scf`` on a 10³ mesh: {element: path}. About 25 s once per session."""
    from tbmto.asa import scf, write_potentials

    out = {}
    root = tmp_path_factory.mktemp("scf")
    for el, (lattice, a) in SCF_ELEMENTS.items():
        out[el] = root / f"{el}.json"
        write_potentials(scf(el, lattice, a=a, kmesh=10, progress=False), out[el])
    return out


def central_difference_damping(s_of, kpoints, h: float = 1e-4) -> float:
    """⟨Re Tr ∂S†∂S⟩_k with ∂S/∂θ from a central difference: ``s_of(theta, k)`` → S."""
    total = 0.0
    for k in kpoints:
        ds = (s_of(h, k) - s_of(-h, k)) / (2 * h)
        total += float(np.sum(np.abs(ds) ** 2))
    return total / len(kpoints)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """configs/tiny.yaml run to completion by snakemake (the packaged Snakefile, 2 cores) in a
    fresh working directory, once per session (test_workflow.py, test_golden.py):
    (workdir, config path, StudyPlan). About a minute on 2 cores."""
    import shutil
    import subprocess
    import sys

    from tbmto.cli import snakefile_path
    from tbmto.config import expand_plan, load_config

    work = tmp_path_factory.mktemp("tiny")
    cfg = work / "tiny.yaml"
    shutil.copy(Path(__file__).resolve().parent.parent / "configs" / "tiny.yaml", cfg)
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(snakefile_path()), "-d", str(work),
                          "--cores", "2", "--configfile", str(cfg)], capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        logs = "\n".join(p.read_text()[-2000:] for p in sorted((work / "results").rglob("*.log"))[:3])
        pytest.fail(f"tiny workflow failed:\n{res.stderr[-4000:]}\n{logs}")
    return work, cfg, expand_plan(load_config(cfg))
