"""Permalloy potentials from SCF variants of the alloy model (docs/validation.md §3).

Diagnostics of the alloy potential model, not production options:

* ``--no-madelung``: the seed's layer-CPA potentials have no intersite Madelung term
  (single-site electrostatics), while :func:`tbmto.asa.scf` adds the Ewald Madelung shift
  V_M,i = −2 Σ_j M_ij Δq_j of the 32-site supercell; this reruns the self-consistency with
  M_ij = 0.
* ``--scf-x``: the 32-site SCF cell represents x = 0.2 by 6 Fe (x = 0.1875); ``--scf-x 0.21875``
  (7 Fe) brackets the target concentration from above.

Everything else is identical to the workflow's SCF (occupation seed, k-mesh, smearing,
tolerance). The potentials are written under the Ni80Fe20 file name of the workflow, next to
a copy of the reference Cu file, so that ``benchmarks/validation_sensitivity.py --pots`` runs
the same x = 0.2 slabs with them.

Usage: python benchmarks/validation_scf_variant.py --ref-pots DIR --out DIR
       [--no-madelung] [--scf-x 0.2] [--kmesh 12]
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil

import numpy as np

from tbmto.asa import write_potentials

# the module, not the function of the same name that tbmto.asa re-exports
scf_module = importlib.import_module("tbmto.asa.scf")

A_PY = 3.548
NAME = f"Ni0.8Fe0.2_fcc_a{A_PY:.4f}.json"


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
    ap.add_argument("--no-madelung", action="store_true")
    ap.add_argument("--scf-x", type=float, default=0.2, help="Fe fraction of the SCF cell")
    args = ap.parse_args(argv)
    if args.no_madelung:
        scf_module.madelung_matrix = _no_madelung
    data = scf_module.scf({"Ni": 1.0 - args.scf_x, "Fe": args.scf_x}, "fcc", a=A_PY, kmesh=args.kmesh, smearing_Ry=0.005,
                          max_iter=120, tol_Ry=1e-5, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    write_potentials(data, os.path.join(args.out, NAME))
    cu = f"Cu_fcc_a{A_PY:.4f}.json"
    shutil.copyfile(os.path.join(args.ref_pots, cu), os.path.join(args.out, cu))
    for el, sp in data["species"].items():
        print(el, "moment (μB)", sp["moment_muB"], "charges", sp["charges"])


if __name__ == "__main__":
    main()
