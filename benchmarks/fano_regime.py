"""Are the permalloy slabs diffusive? Fano factor and local resistivity against slab length.

Reads the published transport tables of several studies (``results/validation/<study>_transport.csv``,
which carry the ``fano`` column of :func:`tbmto.observables.fano_factor`) and writes

* ``results/validation/fano_regime.csv``: per (study, soc, magnetization, L) the configuration
  mean and standard error of the Fano factor F, the mean conductance per lateral cell and k∥
  (G_e2h), and the local resistivity between consecutive lengths,
  ρ_loc = Δ(R·A)/ΔL from the paired (same configuration, nested) differences, in μΩ·cm, with
  its standard error; magnetization ``average`` is ρ̄_loc = (ρ∥ + 2ρ⊥)/3;
* ``results/validation/fano_regime.png``: F(L) with the diffusive 1/3 (Beenakker & Büttiker,
  PRB 46, 1889 (1992)) and ρ̄_loc(L) of every study.

Between ideal leads F = 0 for a ballistic slab and 1/3 for a diffusive one whatever its mean free
path; F < 1/3 at the fitted lengths means that part of the current still crosses the slab in
nearly open channels (transmission eigenvalue τ ≈ 1), so R(L) is not yet linear and the fitted
slope is not the bulk ρ. If a share f of the conductance were in τ = 1 channels and the rest
diffusive, F = (1 − f)/3: the column ``open_share_model`` = 1 − 3F gives that reading.

Usage (from the repository root, docs/validation.md §14.8)::

    python benchmarks/fano_regime.py permalloy_long_111 permalloy_3x3_111_long permalloy_4x4_111 \\
        permalloy_3x3_001_long permalloy_3x3_001_long_nosoc
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from tbmto.io import atomic_write
from tbmto.observables import FANO_DIFFUSIVE

OUT = Path("results/validation")
UOHM_CM_PER_OHM_M = 1e8


def _supercell(study: str) -> str:
    """Lateral cell label from the study name (the tables carry the area, not the cell)."""
    for cell in ("2x2", "3x3", "4x4", "5x5"):
        if f"_{cell}_" in f"_{study}_":
            return cell
    return "2x2"  # the permalloy_long_* studies


def _local_slopes(frame: pd.DataFrame) -> pd.DataFrame:
    """ρ_loc between consecutive lengths from per-configuration differences of R·A (μΩ·cm; NaN at
    the first length), for a frame with one R_ohm_m2 per (config, L_nm)."""
    wide = frame.pivot_table(index="config", columns="L_nm", values="R_ohm_m2")
    lengths = np.array(wide.columns, float)
    d = np.diff(wide.to_numpy(), axis=1) / (np.diff(lengths) * 1e-9) * UOHM_CM_PER_OHM_M  # (n_conf, n_L − 1)
    err = np.nanstd(d, axis=0, ddof=1) / np.sqrt(np.sum(np.isfinite(d), axis=0))
    return pd.DataFrame({"L_nm": lengths, "rho_local_uohm_cm": np.r_[np.nan, np.nanmean(d, axis=0)],
                         "rho_local_uohm_cm_err": np.r_[np.nan, err]})


def _length_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Per length: configurations, mean ± s.e.m. of F, mean G and the local slope, for a frame
    with one row (fano, G_e2h, R_ohm_m2) per (config, L)."""
    stats = frame.groupby(["L_layers", "L_nm"]).agg(
        n_configs=("config", "nunique"), fano=("fano", "mean"), fano_sd=("fano", "std"),
        G_e2h=("G_e2h", "mean")).reset_index()
    stats["fano_err"] = stats.pop("fano_sd") / np.sqrt(stats["n_configs"])
    return stats.merge(_local_slopes(frame), on="L_nm", how="left")


def _average(sgrp: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, L) for m̄: F and G averaged over ∥ and ⊥, and R·A = (R∥ + 2R⊥)/3, whose
    slope is ρ̄ = (ρ∥ + 2ρ⊥)/3 (the same configurations in both magnetisations)."""
    weight = sgrp["magnetization"].map({"par": 1.0, "perp": 2.0})
    keys = ["L_layers", "L_nm", "config"]
    avg = sgrp.groupby(keys)[["fano", "G_e2h"]].mean()
    avg["R_ohm_m2"] = (sgrp["R_ohm_m2"] * weight).groupby([sgrp[k] for k in keys]).sum() / 3.0
    return avg.reset_index()


def regime_table(studies: list[str], root: Path = OUT) -> pd.DataFrame:
    rows = []
    for study in studies:
        path = root / f"{study}_transport.csv"
        tr = pd.read_csv(path, dtype={"direction": str})
        if "fano" not in tr or tr["fano"].isna().all():
            raise ValueError(f"{path}: no fano column (written before the Fano factor existed); rerun the study")
        meta = dict(study=study, direction=str(tr["direction"].iloc[0]), supercell=_supercell(study))
        for soc, sgrp in tr.groupby("soc"):
            groups = list(sgrp.groupby("magnetization"))
            if {"par", "perp"} <= set(sgrp["magnetization"]):
                groups.append(("average", _average(sgrp)))
            for m, grp in groups:
                stats = _length_rows(grp)
                stats.insert(0, "magnetization", m)
                rows.append(stats.assign(soc=bool(soc), **meta))
    out = pd.concat(rows, ignore_index=True)
    out["open_share_model"] = 1.0 - out["fano"] / FANO_DIFFUSIVE
    cols = ["study", "direction", "supercell", "soc", "magnetization", "L_layers", "L_nm", "n_configs",
            "fano", "fano_err", "open_share_model", "G_e2h", "rho_local_uohm_cm", "rho_local_uohm_cm_err"]
    return out[cols]


def plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_f, ax_r) = plt.subplots(1, 2, figsize=(10, 3.8))
    avg = table[table["magnetization"].isin(["average"]) | ~table["soc"]]
    for i, ((study, soc), grp) in enumerate(avg.groupby(["study", "soc"], sort=False)):
        grp = grp.sort_values("L_nm")
        label = (f"[{grp['direction'].iloc[0]}] {grp['supercell'].iloc[0]}, {grp['n_configs'].max()} conf, "
                 f"to {grp['L_nm'].max():.0f} nm{'' if soc else ', no SOC'}")
        style = dict(color=f"C{i}", marker="os^Dv"[i % 5], mfc=None if soc else "none", capsize=3, ms=4)
        ax_f.errorbar(grp["L_nm"], grp["fano"], yerr=grp["fano_err"], label=label, **style)
        ax_r.errorbar(grp["L_nm"] - 0.5 * np.r_[np.nan, np.diff(grp["L_nm"])], grp["rho_local_uohm_cm"],
                      yerr=grp["rho_local_uohm_cm_err"], label=label, **style)
    ax_f.axhline(FANO_DIFFUSIVE, color="0.4", ls="--", lw=1)
    ax_f.text(1.0, FANO_DIFFUSIVE + 0.005, "diffusive 1/3", fontsize=7, color="0.3")
    ax_f.set(xlabel="L (nm)", ylabel="Fano factor $F$", ylim=(0.0, 0.4), xlim=(0.0, None))
    ax_r.axhline(3.5, color="0.4", ls=":", lw=1)
    ax_r.text(1.0, 3.55, "seed 3.5", fontsize=7, color="0.3")
    ax_r.set(xlabel="L (nm), middle of the interval", ylabel=r"local $\Delta(RA)/\Delta L$ ($\mu\Omega$ cm)",
             xlim=(0.0, None), ylim=(0.0, None))
    ax_f.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150))
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("studies", nargs="+", help="study names with results/validation/<study>_transport.csv")
    args = ap.parse_args(argv)
    table = regime_table(args.studies)
    atomic_write(OUT / "fano_regime.csv", lambda tmp: table.to_csv(tmp, index=False, float_format="%.6g"))
    plot(table, OUT / "fano_regime.png")
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
