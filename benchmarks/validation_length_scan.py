"""R(L) of Cu | Ni80Fe20 | Cu over a long thickness range on a small supercell.

Diagnostic for docs/validation.md §"length range": for every L and configuration computes
the spin-resolved conductances without SOC (G↑, G↓ from the two spin blocks, see
validation_common.spin_channel) and the SOC conductances for m ∥ z (par) and m ∥ x (perp).
One JSON line per (L, config) is appended to --out.

Usage: python benchmarks/validation_length_scan.py --pots DIR --out FILE.jsonl
       [--supercell 2 2] [--kmesh 6 6] [--lengths 4 8 16 32 64] [--configs 0 1]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validation_common import M_PAR, M_PERP, append_jsonl, load_potentials, run, spin_channel, stack  # noqa: E402

from tbmto import structure  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--pots", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--supercell", type=int, nargs=2, default=[2, 2])
    ap.add_argument("--kmesh", type=int, nargs=2, default=[6, 6])
    ap.add_argument("--lengths", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--configs", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--no-spin", action="store_true", help="skip the no-SOC spin channels")
    ap.add_argument("--no-soc", action="store_true", help="skip the SOC runs")
    args = ap.parse_args(argv)
    pots = load_potentials(args.pots)
    up, dn = spin_channel(pots, 0), spin_channel(pots, 1)
    for c in args.configs:
        for L in args.lengths:
            at = stack(L, c, supercell=args.supercell, m=M_PAR)
            row = {"L": L, "config": c, "supercell": args.supercell, "kmesh": args.kmesh}
            lay = None
            if not args.no_spin:
                r, t = run(at, up, args.kmesh, soc=False)
                lay = None
                row.update(G_up=r.G_e2h / 2, t_up=t, area_nm2=r.area_nm2, n_modes=r.n_modes_left)
                r, t = run(at, dn, args.kmesh, soc=False)
                row.update(G_dn=r.G_e2h / 2, t_dn=t)
            if not args.no_soc:
                r, t = run(at, pots, args.kmesh, soc=True)
                row.update(G_par=r.G_e2h, t_par=t, area_nm2=r.area_nm2, n_modes=r.n_modes_left)
                r, t = run(structure.set_magnetization(at, M_PERP), pots, args.kmesh, soc=True)
                row.update(G_perp=r.G_e2h, t_perp=t)
            append_jsonl(args.out, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
