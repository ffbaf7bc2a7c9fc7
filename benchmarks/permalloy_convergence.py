"""Convergence of the permalloy numbers with the current defaults (docs/validation.md §14).

Collects the transport tables of the CPA-era permalloy studies (current defaults: CPA
potentials, E_F linearisation, exact spin–orbit block, nested lengths) and refits them with
:func:`tbmto.tables.summary_table` (spread error model, g = 2, α from m ∥) over fixed windows
of slab length, so one table shows how ρ̄, AMR and α move with

* the fit window (length): 2×2 [001] to 68 nm (configs/permalloy_long_001.yaml) and 2×2
  [111] to 69 nm (configs/permalloy_long_111.yaml);
* the lateral cell: 3×3 on [001] and [111], 4×4 on [111], at the same k density, 12 k per
  primitive vector (configs/permalloy_3x3_{001,111}.yaml, configs/permalloy_4x4_111.yaml);
* the k∥ mesh on the same [001] structures (the first 192 layers of permalloy_long_001):
  6×6, 8×8, 10×10 half-step-shifted and the Γ-centred symmetric 7×7 = (2N−1)² mesh of the
  published TB-MTO code (configs/permalloy_{k8,k10,gamma7}_001.yaml), and 4×4 against 6×6 on
  the same 3×3 [111] structures (configs/permalloy_3x3_111_k6.yaml), and 8×8 on the first
  192 layers of configurations 0–3 of them (configs/permalloy_3x3_111_k8.yaml); 4×4 against
  6×6 on the same 3×3 [001] structures (configs/permalloy_3x3_001_k6.yaml);
* the length again at 3×3: [111] to 79 nm with 16 configurations (configs/permalloy_3x3_111_long.yaml)
  and [001] to 68 nm (configs/permalloy_3x3_001_long.yaml), extensions of the 3×3 studies.

A bulk property of a cubic random alloy does not depend on the slab orientation, so the
criterion of convergence is that [001] and [111] agree within errors at the same window.

Cost = the CPU time of the study's transport jobs (one nested sweep per configuration and
magnetisation, :func:`permalloy_headline.core_hours`), the same for every window of a study.

The k-mesh points share their structures with a reference study, so their differences are also
given paired: per configuration, the slopes of R∥, R⊥ (→ ρ̄) and of T∥ against the moment
(→ α = g (dT/dL) / (4π dM/dL)) over the lengths both studies have, and the mean ± std/√n over
configurations of the difference from the reference (``convergence_cpa_kpaired.csv``).

Writes ``convergence_cpa.csv``, ``convergence_cpa_kpaired.csv`` and ``convergence_cpa.png`` to
the output folder.

Usage: python benchmarks/permalloy_convergence.py [--results results] [--out results/validation]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from permalloy_headline import core_hours, in_window
from tbmto.io import atomic_write, read_table
from tbmto.tables import summary_table

SEED = {"rho_avg_uohm_cm": (3.5, 0.15), "amr": (0.19, 0.01), "alpha": (0.0046, 0.0001)}
STUDIES = (  # study, series label, direction, supercell, kmesh, kgrid
    ("permalloy_long_001", "[001] 2x2, 6x6 k", "001", 2, 6, "shifted"),
    ("permalloy_long_111", "[111] 2x2, 6x6 k", "111", 2, 6, "shifted"),
    ("permalloy_3x3_001", "[001] 3x3, 4x4 k", "001", 3, 4, "shifted"),
    ("permalloy_3x3_111", "[111] 3x3, 4x4 k", "111", 3, 4, "shifted"),
    ("permalloy_4x4_111", "[111] 4x4, 3x3 k", "111", 4, 3, "shifted"),
    ("permalloy_k8_001", "[001] 2x2, 8x8 k", "001", 2, 8, "shifted"),
    ("permalloy_k10_001", "[001] 2x2, 10x10 k", "001", 2, 10, "shifted"),
    ("permalloy_gamma7_001", "[001] 2x2, 7x7 k (Gamma)", "001", 2, 7, "gamma"),
    ("permalloy_3x3_111_k6", "[111] 3x3, 6x6 k", "111", 3, 6, "shifted"),
    ("permalloy_3x3_111_k8", "[111] 3x3, 8x8 k", "111", 3, 8, "shifted"),
    ("permalloy_3x3_001_k6", "[001] 3x3, 6x6 k", "001", 3, 6, "shifted"),
    ("permalloy_3x3_111_long", "[111] 3x3, 4x4 k, to 79 nm", "111", 3, 4, "shifted"),
    ("permalloy_3x3_001_long", "[001] 3x3, 4x4 k, to 68 nm", "001", 3, 4, "shifted"),
)
K_PAIRS = (("permalloy_long_001", "permalloy_k8_001"), ("permalloy_long_001", "permalloy_k10_001"),
           ("permalloy_long_001", "permalloy_gamma7_001"), ("permalloy_3x3_111", "permalloy_3x3_111_k6"),
           ("permalloy_3x3_111", "permalloy_3x3_111_k8"),
           ("permalloy_3x3_111_k6", "permalloy_3x3_111_k8"), ("permalloy_3x3_001", "permalloy_3x3_001_k6"))
"""(reference, k-mesh point) pairs on the same structures (nested prefixes of the same increments)."""
WINDOWS_NM = ((8.0, 35.0), (16.0, 52.0), (25.0, 70.0), (40.0, 80.0), (8.0, 80.0))
"""Fit windows of slab length (nm, inclusive); a window needs ≥ 3 of the study's lengths spanning
at least half its width."""
QUANTITIES = ("rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha")


def _row(tr: pd.DataFrame, study: str, series: str, direction: str, supercell: int, kmesh: int,
         kgrid: str, window: tuple[float, float], cost: float) -> dict | None:
    lo, hi = window
    sub = in_window(tr, window)
    lengths = np.sort(sub["L_nm"].unique())
    if len(lengths) < 3 or lengths[-1] - lengths[0] < 0.5 * (hi - lo):
        return None
    s = summary_table(sub).iloc[0]
    row = {"series": series, "study": study, "direction": direction, "supercell": f"{supercell}x{supercell}",
           "kmesh": f"{kmesh}x{kmesh}", "kgrid": kgrid, "k_per_primitive": supercell * kmesh,
           "window_nm": f"{lo:g}-{hi:g}", "lengths_nm": f"{lengths[0]:.1f}-{lengths[-1]:.1f}",
           "n_lengths": len(lengths), "n_configs": int(s["n_configs"]),
           "study_core_hours": cost}
    row.update({f"{q}{e}": float(s[f"{q}{e}"]) for q in QUANTITIES for e in ("", "_err")})
    return row


def collect(results: str) -> pd.DataFrame:
    """One row per (study, fit window) of the studies found under ``results``."""
    rows = []
    for study, series, direction, sc, k, grid in STUDIES:
        path = os.path.join(results, study, "tables")
        if not os.path.exists(os.path.join(path, "transport.csv")):
            continue
        tr = read_table(path, "transport")
        tr = tr[tr["soc"].astype(bool)]
        cost = core_hours(tr)
        seen = set()
        for w in WINDOWS_NM:
            r = _row(tr, study, series, direction, sc, k, grid, w, cost)
            if r is not None and r["lengths_nm"] not in seen:  # a window adding no length is no new point
                seen.add(r["lengths_nm"])
                rows.append(r)
    if not rows:
        raise FileNotFoundError(f"none of the studies {[s[0] for s in STUDIES]} has tables under {results}/")
    return pd.DataFrame(rows)


def _per_config(tr: pd.DataFrame, g: float = 2.0) -> pd.DataFrame:
    """Per-configuration ρ̄ (μΩ·cm) and α from straight-line fits of R(L), T(L), M(L)."""
    def slope(sub: pd.DataFrame, col: str) -> float:
        return float(np.polyfit(sub["L_nm"] * 1e-9 if col == "R_ohm_m2" else sub["L_layers"], sub[col], 1)[0])
    rows = []
    for c, grp in tr.groupby("config"):
        par, perp = grp[grp["magnetization"] == "par"], grp[grp["magnetization"] == "perp"]
        rho_par, rho_perp = slope(par, "R_ohm_m2") * 1e8, slope(perp, "R_ohm_m2") * 1e8
        rows.append({"config": c, "rho_avg_uohm_cm": (rho_par + 2 * rho_perp) / 3,
                     "alpha": g * slope(par, "damping_T") / (4 * np.pi * slope(par, "moment_muB"))})
    return pd.DataFrame(rows).set_index("config")


def paired_k(results: str) -> pd.DataFrame:
    """Paired differences of the k-mesh points of :data:`K_PAIRS` from their references."""
    def load(study: str) -> pd.DataFrame | None:
        path = os.path.join(results, study, "tables")
        if not os.path.exists(os.path.join(path, "transport.csv")):
            return None
        tr = read_table(path, "transport")
        return tr[tr["soc"].astype(bool)]
    series = {s[0]: s[1] for s in STUDIES}
    rows = []
    for reference, study in K_PAIRS:
        ref_tr, tr = load(reference), load(study)
        if ref_tr is None or tr is None:
            continue
        common = sorted(set(ref_tr["L_layers"]) & set(tr["L_layers"]))
        ref = _per_config(ref_tr[ref_tr["L_layers"].isin(common)])
        d = (_per_config(tr[tr["L_layers"].isin(common)]) - ref).dropna()
        L_nm = np.sort(tr.loc[tr["L_layers"].isin(common), "L_nm"].unique())
        row = {"series": series[study], "reference": series[reference], "study": study,
               "lengths_nm": f"{L_nm[0]:.1f}-{L_nm[-1]:.1f}", "n_configs": len(d)}
        for q in ("rho_avg_uohm_cm", "alpha"):
            row[f"{q}_diff"] = float(d[q].mean())
            row[f"{q}_diff_err"] = float(d[q].std(ddof=1) / np.sqrt(len(d)))
            row[f"{q}_ratio"] = 1.0 + row[f"{q}_diff"] / float(ref.loc[d.index, q].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, path: str) -> None:
    """ρ̄, AMR, α against the fit window (left) and against the k density at 8–35 nm (right)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 2, figsize=(10.0, 8.0), sharex="col", sharey="row")
    panels = (("rho_avg_uohm_cm", r"$\bar\rho$ ($\mu\Omega\,$cm)", 1.0), ("amr", "AMR (%)", 100.0),
              ("alpha", r"$\alpha$ ($10^{-3}$)", 1e3))
    windows = [f"{lo:g}-{hi:g}" for lo, hi in WINDOWS_NM]
    lengthwise = table[(table["k_per_primitive"] == 12) & (table["kgrid"] == "shifted")]  # the reference k density
    families = {("001", "2x2"): windows[0], ("111", "3x3"): windows[0]}  # k series → fit window
    kwise = table[[families.get((d, c)) == w for d, c, w in zip(table["direction"], table["supercell"], table["window_nm"])]]
    for (col, label, scale), (axl, axr) in zip(panels, axes):
        v, e = SEED[col]
        for ax in (axl, axr):
            ax.axhspan((v - e) * scale, (v + e) * scale, color="0.85", label="seed")
        for i, (series, grp) in enumerate(lengthwise.groupby("series", sort=False)):
            xs = np.array([windows.index(w) for w in grp["window_nm"]]) + 0.08 * (i - 1.5)
            axl.errorbar(xs, grp[col] * scale, yerr=grp[col + "_err"] * scale, fmt="o-", capsize=3,
                         label=f"{series} ({grp['study_core_hours'].iloc[0]:.2f} core-h)")
        for (d, c, grid), grp in kwise.groupby(["direction", "supercell", "kgrid"]):
            grp = grp.sort_values("k_per_primitive")
            axr.errorbar(grp["k_per_primitive"], grp[col] * scale, yerr=grp[col + "_err"] * scale,
                         fmt="s" if grid == "gamma" else "o-", capsize=3,
                         label=f"[{d}] {c}, {grid} mesh, L = {families[(d, c)]} nm")
        axl.set_ylabel(label)
    axes[0, 0].legend(fontsize=6, loc="best")
    axes[0, 1].legend(fontsize=7, loc="best")
    axes[-1, 0].set_xticks(range(len(windows)), [f"L = {w} nm" for w in windows], fontsize=8)
    axes[-1, 0].set_xlabel("fit window")
    axes[-1, 1].set_xlabel("k per primitive lateral vector")
    fig.suptitle("Ni80Fe20, current defaults (CPA, E_F, exact SOC): convergence", fontsize=9)
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
    atomic_write(os.path.join(args.out, "convergence_cpa.csv"), lambda tmp: table.to_csv(tmp, index=False))
    figure(table, os.path.join(args.out, "convergence_cpa.png"))
    paired = paired_k(args.results)
    atomic_write(os.path.join(args.out, "convergence_cpa_kpaired.csv"), lambda tmp: paired.to_csv(tmp, index=False))
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(table[["series", "window_nm", "n_lengths", "n_configs", "rho_avg_uohm_cm", "rho_avg_uohm_cm_err",
                     "amr", "amr_err", "alpha", "alpha_err", "study_core_hours"]].round(5).to_string(index=False))
        print(paired.round(5).to_string(index=False))


if __name__ == "__main__":
    main()
