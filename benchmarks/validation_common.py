"""Shared helpers of the permalloy validation scripts (benchmarks/validation_*.py).

Not part of the library: thin wrappers that build Cu | Ni80Fe20 | Cu stacks with
:func:`tbmto.structure.build_stack` and call :func:`tbmto.transport.compute` directly
(faster than the Snakemake workflow for exploratory diagnostics). See docs/validation.md.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import pandas as pd

from tbmto import potentials as potmod
from tbmto import structure, transport

A_PY = 3.548  # Vegard lattice constant of Ni80Fe20 used by configs/default.yaml (Å)
LAYER_M = A_PY / 2 * 1e-10  # [001] layer spacing of Ni80Fe20 (m)
M_PAR = (0.0, 0.0, 1.0)
M_PERP = (1.0, 0.0, 0.0)


def load_potentials(pot_dir: str, a: float = A_PY) -> potmod.Potentials:
    """Py and Cu potentials written by `tbmto scf` (results/<study>/potentials)."""
    return potmod.load(os.path.join(pot_dir, f"Ni0.8Fe0.2_fcc_a{a:.4f}.json"),
                       os.path.join(pot_dir, f"Cu_fcc_a{a:.4f}.json"))


def spin_channel(pots: potmod.Potentials, spin: int) -> potmod.Potentials:
    """Potentials with both spin rows replaced by row ``spin`` (0 = majority, 1 = minority).

    Without SOC and for collinear m the secular matrix is block diagonal in spin, so
    G(spin_channel(p, s)) / 2 is the conductance G_s of spin channel s of p.
    """
    sp = {}
    for el, s in pots.species.items():
        sp[el] = dataclasses.replace(
            s, C=np.repeat(s.C[spin:spin + 1], 2, axis=0),
            sqrt_delta=np.repeat(s.sqrt_delta[spin:spin + 1], 2, axis=0),
            gamma=np.repeat(s.gamma[spin:spin + 1], 2, axis=0))
    return dataclasses.replace(pots, species=sp)


def stack(L: int, config: int, supercell=(2, 2), m=M_PAR, a: float = A_PY, seed: int = 2024,
          composition=None):
    return structure.build_stack(direction="001", supercell=tuple(supercell), layers=int(L),
                                 lattice_constant=a, lead="Cu",
                                 composition=composition or {"Ni": 0.8, "Fe": 0.2},
                                 seed=seed, config=int(config), magnetization=m,
                                 system="NiFe_x0.2000")


def run(atoms, pots, kmesh, soc, damping=False, layered=None, **kw):
    t0 = time.perf_counter()
    r = transport.compute(atoms, pots, kmesh=tuple(kmesh), soc=soc, damping=damping,
                          progress=False, layered=layered, **kw)
    return r, time.perf_counter() - t0


def append_jsonl(path: str, row: dict) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def two_point_rho(df, L1: int, L2: int):
    """Per-configuration two-point ρ∥, ρ⊥ = Δ(R·A)/ΔL (μΩ·cm), ρ̄ and AMR.

    ``df`` has columns config, L, mag ("par"/"perp") and RA_ohm_m2 (Ω·m²); returns a DataFrame
    indexed by configuration with columns par, perp, avg, amr (configurations with a missing
    run are dropped).
    """
    wide = df.pivot_table(index="config", columns=["mag", "L"], values="RA_ohm_m2")
    out = pd.DataFrame(index=wide.index)
    for m in ("par", "perp"):
        out[m] = (wide[(m, L2)] - wide[(m, L1)]) / ((L2 - L1) * LAYER_M) * 1e8
    out["avg"] = (out["par"] + 2 * out["perp"]) / 3
    out["amr"] = (out["par"] - out["perp"]) / out["avg"]
    return out.dropna()
