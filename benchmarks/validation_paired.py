"""Paired comparison of potential variants on the same permalloy structures (docs/validation.md §3).

Reads runs of ``benchmarks/validation_sensitivity.py`` (JSON lines or the CSV they were copied
to) and the reference workflow transport table of configs/permalloy_validation.yaml, keeps
the (configuration, L, magnetisation) triples present in both, and prints per variant the
two-point resistivities ρ = Δ(R·A)/ΔL (μΩ·cm) of every configuration, their means ρ∥, ρ⊥,
ρ̄, AMR, and the paired difference to the reference with its standard error over
configurations. Writes one row per variant to ``--out`` (CSV) when given.

Usage: python benchmarks/validation_paired.py --reference results/validation/transport_soc.csv
       --variant NAME=FILE[#column=value] [--variant ...] [--out FILE.csv]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

from tbmto.io import atomic_write

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validation_common import two_point_rho  # noqa: E402


def _read(path: str) -> pd.DataFrame:
    if path.endswith(".jsonl"):
        with open(path) as fh:
            return pd.DataFrame([json.loads(line) for line in fh if line.strip()])
    return pd.read_csv(path)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True)
    ap.add_argument("--variant", action="append", required=True, metavar="NAME=FILE")
    ap.add_argument("--lengths", type=int, nargs=2, default=[48, 144])
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    ref = pd.read_csv(args.reference)
    ref = ref[ref["soc"].astype(bool)].rename(columns={"L_layers": "L", "magnetization": "mag",
                                                      "R_ohm_m2": "RA_ohm_m2"})
    L1, L2 = args.lengths
    rows = []
    for spec in args.variant:
        name, path = spec.split("=", 1)
        path, _, where = path.partition("#")
        var = _read(path)
        if where:  # FILE#column=value keeps the rows of one variant of a shared file
            key, _, value = where.partition("=")
            var = var[var[key].astype(str) == value]
        rv = two_point_rho(var, L1, L2)
        rr = two_point_rho(ref[ref["config"].isin(rv.index)], L1, L2).loc[rv.index]
        diff = rv - rr
        n = len(rv)
        row = {"variant": name, "source": os.path.basename(path), "n_configs": n, "L1": L1, "L2": L2}
        for col in ("par", "perp", "avg", "amr"):
            row[f"{col}_ref"] = rr[col].mean()
            row[f"{col}"] = rv[col].mean()
            row[f"{col}_diff"] = diff[col].mean()
            row[f"{col}_diff_err"] = diff[col].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append(row)
        print(f"{name}: n={n}  rho_avg {row['avg_ref']:.3f} -> {row['avg']:.3f} "
              f"(paired {row['avg_diff']:+.3f} ± {row['avg_diff_err']:.3f} μΩ·cm, "
              f"{100 * row['avg_diff'] / row['avg_ref']:+.1f} %)  rho_par {row['par_ref']:.3f} -> {row['par']:.3f}  "
              f"rho_perp {row['perp_ref']:.3f} -> {row['perp']:.3f}  AMR {row['amr_ref']:.3f} -> {row['amr']:.3f} "
              f"({row['amr_diff']:+.3f} ± {row['amr_diff_err']:.3f})")
    if args.out:
        table = pd.DataFrame(rows)
        atomic_write(args.out, lambda tmp: table.to_csv(tmp, index=False))


if __name__ == "__main__":
    main()
