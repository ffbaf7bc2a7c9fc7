"""Tables and figures of docs/validation.md from the permalloy validation runs.

Reads the workflow tables of configs/permalloy_validation*.yaml (results/<study>/tables) and
the JSON-lines diagnostics of benchmarks/validation_length_scan.py and
validation_supercell.py, and writes small CSV/PNG files to results/validation/:

* transport_{soc,nosoc}.csv    per-run G, R·A, T, M (copied from the workflow tables)
* summary_by_range.csv         ρ∥, ρ⊥, ρ̄, AMR, α (spread fit) for fits over L ≥ L_min
* local_slopes.csv             d(R·A)/dL between successive lengths (configuration means)
* spin_resolved_2x2.csv        no-SOC G↑, G↓ and SOC G∥, G⊥ versus L (diagnostic scan)
* supercell_kmesh_checks.csv  3×3 (4×4 k) and 2×2 (10×10 k) runs of the convergence checks
* resistance_vs_L.png, local_slope.png, spin_resolved.png

Usage: python benchmarks/validation_report.py [--results results] [--scan FILE.jsonl]
       [--supercell-scan FILE.jsonl ...] [--out results/validation]
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import pandas as pd

from tbmto.observables import E2_OVER_H_SIEMENS
from tbmto.tables import summary_table

SUMMARY_COLS = ["soc", "L_min", "n_lengths", "n_configs", "rho_par_uohm_cm", "rho_par_uohm_cm_err",
                "rho_perp_uohm_cm", "rho_perp_uohm_cm_err", "rho_avg_uohm_cm", "rho_avg_uohm_cm_err",
                "amr", "amr_err", "alpha", "alpha_err", "RA_interface_par_ohm_m2", "dT_dL_per_layer",
                "dT_dL_per_layer_err"]


def summaries(df: pd.DataFrame, lmins) -> pd.DataFrame:
    out = []
    for lmin in lmins:
        sub = df[df["L_layers"] >= lmin]
        if sub["L_layers"].nunique() < 3:
            continue
        s = summary_table(sub, method="spread").iloc[0].to_dict()
        s["L_min"] = lmin
        out.append({k: s.get(k, np.nan) for k in SUMMARY_COLS})
    return pd.DataFrame(out)


def local_slopes(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (soc, mag), g in df.groupby(["soc", "magnetization"]):
        m = g.groupby("L_layers").agg(RA=("R_ohm_m2", "mean"), L_nm=("L_nm", "mean"),
                                       sem=("R_ohm_m2", lambda x: x.std(ddof=1) / np.sqrt(len(x))))
        L = m.index.to_numpy()
        for i in range(len(L) - 1):
            dl = (m["L_nm"].iloc[i + 1] - m["L_nm"].iloc[i]) * 1e-9
            sl = (m["RA"].iloc[i + 1] - m["RA"].iloc[i]) / dl * 1e8
            err = np.hypot(m["sem"].iloc[i + 1], m["sem"].iloc[i]) / dl * 1e8
            rows.append({"soc": soc, "magnetization": mag, "L_from": int(L[i]), "L_to": int(L[i + 1]),
                         "L_mid_nm": 0.5 * (m["L_nm"].iloc[i] + m["L_nm"].iloc[i + 1]),
                         "slope_uohm_cm": sl, "slope_err_uohm_cm": err})
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="results")
    ap.add_argument("--scan", default=None)
    ap.add_argument("--supercell-scan", nargs="*", default=[],
                    help="JSON-lines files of validation_supercell.py (3×3 and k-mesh checks)")
    ap.add_argument("--out", default="results/validation")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = []
    for study, tag in (("permalloy_validation", "soc"), ("permalloy_validation_nosoc", "nosoc")):
        p = os.path.join(args.results, study, "tables", "transport.csv")
        if os.path.isfile(p):
            d = pd.read_csv(p)
            d.to_csv(os.path.join(args.out, f"transport_{tag}.csv"), index=False)
            frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    summ = pd.concat([summaries(g, sorted(g["L_layers"].unique())[:-2]) for _, g in df.groupby("soc")],
                     ignore_index=True)
    summ.to_csv(os.path.join(args.out, "summary_by_range.csv"), index=False)
    print(summ.to_string())
    ls = local_slopes(df)
    ls.to_csv(os.path.join(args.out, "local_slopes.csv"), index=False)
    print(ls.to_string())

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    styles = {(True, "par"): ("C0", "o", "SOC, m ∥ I"), (True, "perp"): ("C3", "s", "SOC, m ⊥ I"),
              (False, "par"): ("C2", "^", "no SOC")}
    for (soc, mag), g in df.groupby(["soc", "magnetization"]):
        c, mk, lab = styles.get((bool(soc), mag), ("k", "x", f"{soc} {mag}"))
        ax[0].plot(g["L_nm"], g["R_ohm_m2"] * 1e15, mk, color=c, alpha=0.35, ms=4)
        m = g.groupby("L_nm")["R_ohm_m2"].mean() * 1e15
        ax[0].plot(m.index, m.values, "-", color=c, marker=mk, label=lab)
        s = ls[(ls["soc"] == soc) & (ls["magnetization"] == mag)]
        ax[1].errorbar(s["L_mid_nm"], s["slope_uohm_cm"], s["slope_err_uohm_cm"], color=c, marker=mk,
                       label=lab, capsize=2)
    ax[0].set_xlabel("L (nm)"); ax[0].set_ylabel("R·A (fΩ·m²)"); ax[0].legend()
    ax[1].axhspan(3.35, 3.65, color="0.85", label="seed ρ̄ = 3.5 ± 0.15")
    ax[1].set_xlabel("L midpoint (nm)"); ax[1].set_ylabel("local d(RA)/dL (μΩ·cm)"); ax[1].legend()
    ax[1].set_title("2×2 supercell, 6×6 k, configuration means")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "resistance_vs_L.png"), dpi=110)

    if args.scan and os.path.isfile(args.scan):
        rows = [json.loads(x) for x in open(args.scan, encoding="utf-8")]
        sc = pd.DataFrame(rows).drop(columns=["supercell", "kmesh"])
        a_m2 = sc["area_nm2"] * 1e-18
        for k in ("G_up", "G_dn", "G_par", "G_perp"):
            sc[k.replace("G_", "RA_") + "_ohm_m2"] = a_m2 / (sc[k] * E2_OVER_H_SIEMENS)
        sc.to_csv(os.path.join(args.out, "spin_resolved_2x2.csv"), index=False)
        m = sc.groupby("L")[["G_up", "G_dn", "G_par", "G_perp"]].mean()
        fig, ax = plt.subplots(figsize=(5, 4))
        for k, lab in (("G_up", "no SOC, majority G↑"), ("G_dn", "no SOC, minority G↓"),
                       ("G_par", "SOC, m ∥ I (both spins)"), ("G_perp", "SOC, m ⊥ I (both spins)")):
            ax.plot(m.index * 3.548 / 20, m[k], "o-", label=lab)
        ax.set_xlabel("L (nm)"); ax.set_ylabel("G (e²/h per 2×2 cell)"); ax.legend(fontsize=8)
        ax.set_title("Cu|Py|Cu, 2×2, 6×6 k, config mean")
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "spin_resolved.png"), dpi=110)
    rows = [json.loads(x) for f in args.supercell_scan if os.path.isfile(f) for x in open(f, encoding="utf-8")]
    if rows:
        sc = pd.DataFrame(rows)
        sc["RA_ohm_m2"] = 1e-15 / sc["G_per_area_1e15"]
        sc.sort_values(["supercell", "kmesh", "config", "mag", "L"]).to_csv(
            os.path.join(args.out, "supercell_kmesh_checks.csv"), index=False)


if __name__ == "__main__":
    main()
