"""Permalloy potentials from an SCF variant without the intersite Madelung term (docs/validation.md §3).

A diagnostic of the alloy potential model, not a production option: the seed's layer-CPA
potentials have no intersite Madelung term (single-site electrostatics), while
:func:`tbmto.asa.scf` adds the Ewald Madelung shift V_M,i = −2 Σ_j M_ij Δq_j of the 32-site
supercell. This script reruns the Ni80Fe20 self-consistency with M_ij = 0 (everything else
identical: same occupation seed, k-mesh, smearing, tolerance) and writes a potentials folder
that ``benchmarks/validation_sensitivity.py --pots`` can use next to the standard one.

Usage: python benchmarks/validation_scf_variant.py --ref-pots DIR --out DIR [--kmesh 12]
"""
from __future__ import annotations

import argparse
import os
import shutil

import numpy as np

import tbmto.asa.scf as scf_module
from tbmto.asa import write_potentials

A_PY = 3.548
NAME = f"NiFe_x0.2000_a{A_PY:.4f}.json"


def _no_madelung(cell, positions):
    """Zero Madelung matrix of the same shape as :func:`tbmto.asa.madelung.madelung_matrix`."""
    n = len(positions)
    return np.zeros((n, n))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-pots", required=True, help="folder with the standard Cu and NiFe files")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kmesh", type=int, default=12)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    scf_module.madelung_matrix = _no_madelung
    data = scf_module.scf("NiFe", "fcc", a=A_PY, x=0.2, kmesh=args.kmesh, smearing_Ry=0.005,
                          max_iter=120, tol_Ry=1e-5, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    write_potentials(data, os.path.join(args.out, NAME))
    cu = f"Cu_a{A_PY:.4f}.json"
    shutil.copyfile(os.path.join(args.ref_pots, cu), os.path.join(args.out, cu))
    for el, sp in data["species"].items():
        print(el, "moment (μB)", sp["moment_muB"], "charges", sp["charges"])


if __name__ == "__main__":
    main()
