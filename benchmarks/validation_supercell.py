"""Lateral-supercell check (docs/validation.md, check 4): G(L) of Cu | Py | Cu with SOC for
an m × m supercell and an n × n k-mesh (matched k density: m·n fixed), appended as JSON lines.

Usage: python benchmarks/validation_supercell.py --pots DIR --out FILE.jsonl
       --supercell 3 --kmesh 4 --lengths 24 48 --configs 0 [--mags par perp]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validation_common import M_PAR, M_PERP, append_jsonl, load_potentials, run, stack  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--pots", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--supercell", type=int, default=3)
    ap.add_argument("--kmesh", type=int, default=4)
    ap.add_argument("--lengths", type=int, nargs="+", default=[24, 48])
    ap.add_argument("--configs", type=int, nargs="+", default=[0])
    ap.add_argument("--mags", nargs="+", default=["par"], choices=["par", "perp"])
    args = ap.parse_args(argv)
    pots = load_potentials(args.pots)
    for c in args.configs:
        for L in args.lengths:
            for mag in args.mags:
                at = stack(L, c, supercell=(args.supercell,) * 2, m=M_PAR if mag == "par" else M_PERP)
                r, t = run(at, pots, (args.kmesh,) * 2, soc=True)
                row = {"L": L, "config": c, "supercell": args.supercell, "kmesh": args.kmesh, "mag": mag,
                       "G_e2h": r.G_e2h, "area_nm2": r.area_nm2, "n_modes": r.n_modes_left,
                       "G_per_area_1e15": r.conductance_per_area, "seconds": t}
                append_jsonl(args.out, row)
                print(row, flush=True)


if __name__ == "__main__":
    main()
