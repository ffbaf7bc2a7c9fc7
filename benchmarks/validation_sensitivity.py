"""Sensitivity of the long-slab ρ∥, ρ⊥ to the potential parameters (docs/validation.md §3).

A diagnostic, not a fit: for a given potentials directory and an optional uniform scale of the
SOC parameters ξ_l of every species, computes G at two slab lengths for a few configurations
and both magnetisations (2×2 supercell, Cu leads) and prints the two-point slopes
d(R·A)/dL in μΩ·cm, ρ̄ and AMR. Compare runs on the same structures and k-mesh only.

Usage: python benchmarks/validation_sensitivity.py --pots DIR [--xi-scale 1.0]
       [--lengths 48 144] [--configs 0 1] [--kmesh 6] [--out FILE.jsonl]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validation_common import M_PAR, M_PERP, append_jsonl, load_potentials, run, stack, two_point_rho  # noqa: E402


def scale_xi(pots, factor: float):
    """Copy of ``pots`` with every species' ξ_l multiplied by ``factor``."""
    sp = {el: dataclasses.replace(s, xi=s.xi * float(factor)) for el, s in pots.species.items()}
    return dataclasses.replace(pots, species=sp)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--pots", required=True)
    ap.add_argument("--xi-scale", type=float, default=1.0)
    ap.add_argument("--lengths", type=int, nargs=2, default=[48, 144])
    ap.add_argument("--configs", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--kmesh", type=int, default=6)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    pots = scale_xi(load_potentials(args.pots), args.xi_scale)
    rows = []
    for c in args.configs:
        for L in args.lengths:
            for mag, mv in (("par", M_PAR), ("perp", M_PERP)):
                r, t = run(stack(L, c, m=mv), pots, (args.kmesh,) * 2, soc=True)
                row = {"pots": args.pots, "xi_scale": args.xi_scale, "config": c, "L": L, "mag": mag,
                       "kmesh": args.kmesh, "G_e2h": r.G_e2h, "RA_ohm_m2": 1e-15 / r.conductance_per_area,
                       "seconds": t}
                rows.append(row)
                print(row, flush=True)
                if args.out:
                    append_jsonl(args.out, row)
    rho = two_point_rho(pd.DataFrame(rows), *args.lengths).mean()
    rbar = (rho["par"] + 2 * rho["perp"]) / 3
    print(f"xi_scale={args.xi_scale} rho_par={rho['par']:.3f} rho_perp={rho['perp']:.3f} "
          f"rho_avg={rbar:.3f} AMR={(rho['par'] - rho['perp']) / rbar:.3f}")


if __name__ == "__main__":
    main()
