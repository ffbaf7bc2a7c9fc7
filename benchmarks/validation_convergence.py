"""Convergence table and figure of the permalloy results (docs/validation.md §4).

Collects the workflow transport tables of the permalloy studies and refits them with
:func:`tbmto.tables.summary_table` (spread error model) on matched subsets, so every point of
the table differs from the reference point in one setting only:

* reference        2×2 [001], 6×6 k, L = 48, 96, 144 layers, configurations 0–4
                   (subset of configs/permalloy_validation.yaml);
* k-mesh           8×8 k on the same structures (configs/permalloy_conv_k8.yaml);
* supercell        3×3 with 4×4 k and 4×4 with 3×3 k, the same k density
                   (configs/permalloy_conv_{3x3,4x4}.yaml); 5×5 with 2×2 k and 3 configurations
                   (configs/permalloy_conv_5x5.yaml, k density 10 instead of 12, for cost);
* k-mesh at 4×4   3×3 against 4×4 k on the same 4×4 structures (configurations 0–2, m ∥;
                   configs/permalloy_conv_4x4_k4.yaml);
* direction        [111], 2×2 hexagonal cell, 6×6 k (configs/permalloy_conv_111.yaml), and
                   3×3 with 4×4 k, 4×4 with 3×3 k (configs/permalloy_conv_111_{3x3,4x4}.yaml);
* configurations   3, 5, 8 configurations of permalloy_validation over L = 48–192;
* length range     L = 48–192 and 96–192 of permalloy_validation (8 configurations).

Cost = the summed wall time of the transport jobs of the point (1 thread each, from the
``seconds`` column) in core-hours, measured on the shared 2-core workstation. The
permalloy_validation runs predate the lead-mode cache (``lead_cache`` column False): their
jobs recomputed the Cu lead modes at every k, roughly doubling the cost at L ≲ 100.

Writes ``convergence.csv`` and ``convergence.png`` to the output folder.

Usage: python benchmarks/validation_convergence.py [--results results] [--out results/validation]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from tbmto.io import atomic_write
from tbmto.tables import summary_table

SEED = {"rho_avg_uohm_cm": (3.5, 0.15), "amr": (0.19, 0.01), "alpha": (0.0046, 0.0001)}
COLS = ["point", "setting", "study", "direction", "supercell", "kmesh", "k_1x1_equivalent",
        "L_layers", "n_configs", "rho_par_uohm_cm", "rho_par_uohm_cm_err", "rho_perp_uohm_cm",
        "rho_perp_uohm_cm_err", "rho_avg_uohm_cm", "rho_avg_uohm_cm_err", "amr", "amr_err", "alpha",
        "alpha_err", "jobs", "cost_core_hours", "lead_cache"]


def _point(df: pd.DataFrame, point: str, setting: str, study: str, supercell: int, kmesh: int,
           lengths=None, configs=None, mags=None) -> dict | None:
    """One table row from the SOC runs of ``df`` restricted to ``lengths``, ``configs``, ``mags``."""
    sub = df[df["soc"].astype(bool)]
    if mags is not None:
        sub = sub[sub["magnetization"].isin(mags)]
    if lengths is not None:
        sub = sub[sub["L_layers"].isin(lengths)]
    if configs is not None:
        sub = sub[sub["config"] < configs]
    if sub.empty or sub["L_layers"].nunique() < 2:
        return None
    s = summary_table(sub).iloc[0]
    row = {"point": point, "setting": setting, "study": study, "direction": str(sub["direction"].iloc[0]).zfill(3),
           "supercell": f"{supercell}x{supercell}", "kmesh": f"{kmesh}x{kmesh}",
           "k_1x1_equivalent": supercell * kmesh,
           "L_layers": ",".join(str(v) for v in sorted(sub["L_layers"].unique())),
           "n_configs": int(s["n_configs"]), "jobs": len(sub),
           "cost_core_hours": float(sub["seconds"].sum()) / 3600.0,
           "lead_cache": study != "permalloy_validation"}
    row.update({c: float(s[c]) for c in COLS if c in s.index and c not in row})
    return row


def _load(results: str, study: str) -> pd.DataFrame | None:
    path = os.path.join(results, study, "tables", "transport.csv")
    return pd.read_csv(path) if os.path.exists(path) else None


def collect(results: str) -> pd.DataFrame:
    rows = []
    ref = _load(results, "permalloy_validation")
    if ref is None:
        raise FileNotFoundError(f"{results}/permalloy_validation/tables/transport.csv: run "
                                "`tbmto run configs/permalloy_validation.yaml` first")
    short = [48, 96, 144]
    rows.append(_point(ref, "reference", "2x2, 6x6 k", "permalloy_validation", 2, 6, short, 5))
    for study, point, setting, sc, k in (
            ("permalloy_conv_k8", "k-mesh", "2x2, 8x8 k", 2, 8),
            ("permalloy_conv_3x3", "supercell", "3x3, 4x4 k", 3, 4),
            ("permalloy_conv_4x4", "supercell", "4x4, 3x3 k", 4, 3),
            ("permalloy_conv_5x5", "supercell", "5x5, 2x2 k, 3 conf", 5, 2),
            ("permalloy_conv_111", "direction", "[111] 2x2, 6x6 k", 2, 6),
            ("permalloy_conv_111_3x3", "direction + supercell", "[111] 3x3, 4x4 k", 3, 4),
            ("permalloy_conv_111_4x4", "direction + supercell", "[111] 4x4, 3x3 k", 4, 3)):
        df = _load(results, study)
        if df is not None:
            rows.append(_point(df, point, setting, study, sc, k, short, 5))
    k3, k4 = _load(results, "permalloy_conv_4x4"), _load(results, "permalloy_conv_4x4_k4")
    if k3 is not None and k4 is not None:  # k-mesh at 4x4, paired structures, m par
        rows.append(_point(k3, "k-mesh at 4x4", "4x4, 3x3 k, 3 conf, m par", "permalloy_conv_4x4", 4, 3,
                           short, 3, ["par"]))
        rows.append(_point(k4, "k-mesh at 4x4", "4x4, 4x4 k, 3 conf, m par", "permalloy_conv_4x4_k4", 4, 4,
                           short, 3, ["par"]))
    for n in (3, 5, 8):
        rows.append(_point(ref, "configurations", f"2x2, 6x6 k, {n} conf, L 48-192", "permalloy_validation", 2, 6, None, n))
    rows.append(_point(ref, "length range", "2x2, 6x6 k, 8 conf, L 96-192", "permalloy_validation", 2, 6,
                       [96, 120, 144, 168, 192], 8))
    return pd.DataFrame([r for r in rows if r is not None], columns=COLS)


def figure(table: pd.DataFrame, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(7.0, 7.5), sharex=True)
    xs = np.arange(len(table))
    for ax, (col, label, scale) in zip(axes, (("rho_avg_uohm_cm", r"$\bar\rho$ ($\mu\Omega\,$cm)", 1.0),
                                              ("amr", "AMR (%)", 100.0),
                                              ("alpha", r"$\alpha$ ($10^{-3}$)", 1e3))):
        v, e = SEED[col]
        ax.axhspan((v - e) * scale, (v + e) * scale, color="0.85", label="seed")
        ax.errorbar(xs, table[col] * scale, yerr=table[col + "_err"] * scale, fmt="o", color="C0",
                    capsize=3, label="tbmto")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7, loc="upper left")
    n_short = int((table["L_layers"] == "48,96,144").sum())
    if 0 < n_short < len(table):  # points fitted over L = 48–144 | longer slabs
        for ax in axes:
            ax.axvline(n_short - 0.5, color="0.5", ls=":", lw=1)
    labels = [f"{s}\n{c:.2f} core-h" for s, c in zip(table["setting"], table["cost_core_hours"])]
    axes[-1].set_xticks(xs, labels, rotation=35, ha="right", fontsize=7)
    fig.suptitle("Ni80Fe20: convergence of the SOC-driven quantities", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=130))
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--out", default=os.path.join("results", "validation"))
    args = ap.parse_args(argv)
    table = collect(args.results)
    os.makedirs(args.out, exist_ok=True)
    atomic_write(os.path.join(args.out, "convergence.csv"), lambda tmp: table.to_csv(tmp, index=False))
    figure(table, os.path.join(args.out, "convergence.png"))
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table[["setting", "L_layers", "n_configs", "rho_avg_uohm_cm", "rho_avg_uohm_cm_err", "amr",
                     "amr_err", "alpha", "alpha_err", "cost_core_hours"]].round(4).to_string(index=False))


if __name__ == "__main__":
    main()
