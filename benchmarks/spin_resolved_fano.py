"""Which spin carries the open channels of a permalloy slab? Spin-resolved G and Fano factor
without SOC.

Without spin–orbit coupling and with every moment along ẑ, H = S^α(k∥) − P^α(E_F) is block
diagonal in the global spin, so the spin-↑ (majority) and spin-↓ (minority) scattering problems
are solved separately (:func:`tbmto.mixing.spin_blocks`). For each configuration and slab
length L (the prefix :func:`tbmto.structure.truncate` of a study's nested structure) this gives
G_σ = ⟨Tr t_σ†t_σ⟩_k and F_σ = Σ_k Tr t_σ†t_σ(1 − t_σ†t_σ) / Σ_k Tr t_σ†t_σ
(:func:`tbmto.observables.fano_factor`; 1/3 for a diffusive channel, Beenakker & Büttiker,
PRB 46, 1889 (1992)). The spin sum reproduces the ``G_e2h`` and ``fano`` of the study's no-SOC
transport table, which the script checks.

Writes ``results/validation/spin_resolved_fano.csv`` (config, L_layers, L_nm, spin, G_e2h,
fano, n_k) and prints the configuration means.

Usage (from the repository root, after ``tbmto run configs/permalloy_3x3_001_long_nosoc.yaml``;
docs/validation.md §14.8)::

    python benchmarks/spin_resolved_fano.py results/permalloy_3x3_001_long_nosoc --configs 0 1 \\
        --lengths 48 192 384
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from tbmto import potentials, structure
from tbmto.io import atomic_write, read_structure, read_table
from tbmto.layers import kmesh
from tbmto.mixing import spin_blocks
from tbmto.model import MTOModel
from tbmto.observables import fano_factor
from tbmto.transport import DEFAULT_SOC_FORM
from tbmto.wfm import smatrix

OUT = Path("results/validation")


def spin_resolved(atoms, pots, mesh: tuple[int, int]) -> dict:
    """Per spin (0 ↑, 1 ↓): per-k∥ Tr t†t and Tr t†t(1 − t†t) of one structure without SOC."""
    model = MTOModel.build(atoms, pots, 0.0, soc=False, soc_form=DEFAULT_SOC_FORM)
    out = {0: ([], []), 1: ([], [])}
    for k in kmesh(model.layered.cell2d, mesh):
        b = model.blocks(k)
        for spin in (0, 1):
            s = spin_blocks(b, spin)
            r = smatrix(s.h_left, s.v_left, s.h_slab, s.v_slab, s.h_right, s.v_right)
            out[spin][0].append(r.transmission())
            out[spin][1].append(r.noise_trace())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", type=Path, help="results/<study> of a no-SOC study (structures/, potentials/, tables/)")
    ap.add_argument("--configs", type=int, nargs="+", default=[0])
    ap.add_argument("--lengths", type=int, nargs="+", required=True, help="slab lengths (layers) of the study")
    args = ap.parse_args(argv)
    tr = read_table(args.study / "tables", "transport")
    tr = tr[~tr["soc"].astype(bool)]
    if tr.empty:
        raise SystemExit(f"{args.study}: no no-SOC runs in the transport table")
    system = str(tr["system"].iloc[0])
    n_k = int(tr["n_k"].iloc[0])
    side = int(round(np.sqrt(n_k)))
    pots = potentials.load(*sorted((args.study / "potentials").glob("*.json")))
    rows = []
    for c in args.configs:
        full = structure.set_magnetization(read_structure(args.study / "structures" / system / f"c{c}.extxyz"),
                                           (0.0, 0.0, 1.0))
        for L in args.lengths:
            ref = tr[(tr["config"] == c) & (tr["L_layers"] == L)]
            if ref.empty:
                raise SystemExit(f"configuration {c}, L = {L} is not in the study's transport table")
            res = spin_resolved(structure.truncate(full, L), pots, (side, side))
            g = {s: float(np.mean(res[s][0])) for s in (0, 1)}
            # the spin sum is the study's no-SOC run on the same structure
            g_ref, f_ref = float(ref["G_e2h"].iloc[0]), float(ref["fano"].iloc[0])
            f_sum = fano_factor(res[0][1] + res[1][1], res[0][0] + res[1][0])
            if abs(g[0] + g[1] - g_ref) > 1e-8 * g_ref or abs(f_sum - f_ref) > 1e-8:
                raise SystemExit(f"c{c} L={L}: spin sum G {g[0] + g[1]!r}, F {f_sum!r} differ from the "
                                 f"study's {g_ref!r}, {f_ref!r}")
            for s, name in ((0, "up"), (1, "down")):
                rows.append({"config": c, "L_layers": L, "L_nm": float(ref["L_nm"].iloc[0]), "spin": name,
                             "G_e2h": g[s], "fano": fano_factor(res[s][1], res[s][0]), "n_k": side * side})
            print(f"c{c} L={L}: G up {g[0]:.3f} (F {rows[-2]['fano']:.3f}), down {g[1]:.3f} "
                  f"(F {rows[-1]['fano']:.3f}); sum F {f_sum:.4f} = study {f_ref:.4f}", flush=True)
    table = pd.DataFrame(rows)
    atomic_write(OUT / "spin_resolved_fano.csv", lambda tmp: table.to_csv(tmp, index=False, float_format="%.6g"))
    print(table.groupby(["L_layers", "spin"])[["G_e2h", "fano"]].agg(["mean", "sem"]).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
