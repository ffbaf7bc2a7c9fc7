"""Paired permalloy comparison of on-site settings on the same structures, and the headline table.

Reads transport tables of the permalloy reference study (configs/permalloy_validation.yaml:
Cu | Ni80Fe20 | Cu [001], 2×2, 6×6 k, L = 48 … 192, 8 configurations, m ∥ and ⊥) run with two
on-site settings — the same seed, hence the same structures — and reports

* the library's summary (ρ∥, ρ⊥, ρ̄, AMR, α with errors) of each setting;
* paired differences: ρ̄ and α of each configuration fitted alone (R(L), T(L) slopes), new
  minus old, mean ± standard error over configurations (the independent samples).

Writes ``results/validation/onsite_paired.csv`` and rows of
``results/validation/permalloy_headline.csv``.

Usage::

    python benchmarks/validation_onsite_paired.py OLD_TRANSPORT.csv NEW_TRANSPORT.csv \\
        [--old-label L] [--new-label L]

Tables without ``soc_form``/``linearisation`` columns (written before they existed) get the
settings of ``--old-settings`` / ``--new-settings``.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from tbmto.io import atomic_write
from tbmto.tables import summary_table

OUT = "results/validation"
HEADLINE = os.path.join(OUT, "permalloy_headline.csv")
HEADLINE_COLUMNS = ["label", "direction", "supercell", "kmesh", "lengths_nm", "configurations",
                    "linearisation", "soc_form"] + [
    f"{q}{e}" for q in ("rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha")
    for e in ("", "_err")]


def _read(path: str, settings: str) -> pd.DataFrame:
    """Transport table; ``settings`` = "linearisation,soc_form" for tables without the columns."""
    df = pd.read_csv(path, dtype={"direction": str})
    lin, form = settings.split(",")
    for col, val in (("linearisation", lin), ("soc_form", form), ("kgrid", "shifted")):
        if col not in df:
            df[col] = val
    return df[df["soc"]]


def _per_config(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c, sub in df.groupby("config"):
        s = summary_table(sub.assign(config=0)).iloc[0]
        rows.append({"config": c, "rho_avg": s["rho_avg_uohm_cm"], "amr": s["amr"], "alpha": s["alpha"]})
    return pd.DataFrame(rows).set_index("config")


def headline_row(label: str, df: pd.DataFrame, summary: pd.Series) -> dict:
    lengths = np.sort(df["L_nm"].unique())
    row = {"label": label, "direction": "001", "supercell": "2x2", "kmesh": "6x6",
           "lengths_nm": f"{lengths[0]:.1f}-{lengths[-1]:.1f}", "configurations": int(df["config"].nunique()),
           "linearisation": df["linearisation"].iloc[0], "soc_form": df["soc_form"].iloc[0]}
    for q in HEADLINE_COLUMNS[8:]:
        row[q] = float(summary[q])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--old-label", default="reference_band_centre_orthogonal")
    ap.add_argument("--new-label", default="reference_fermi_exact")
    ap.add_argument("--old-settings", default="band_centre,orthogonal",
                    help="linearisation,soc_form of OLD when its table lacks the columns")
    ap.add_argument("--new-settings", default="fermi,exact",
                    help="linearisation,soc_form of NEW when its table lacks the columns")
    args = ap.parse_args()
    old, new = _read(args.old, args.old_settings), _read(args.new, args.new_settings)
    keys = ["L_layers", "config", "magnetization"]
    common = old.merge(new[keys], on=keys)[keys]
    old = old.merge(common, on=keys)
    new = new.merge(common, on=keys)
    s_old, s_new = summary_table(old).iloc[0], summary_table(new).iloc[0]
    p_old, p_new = _per_config(old), _per_config(new)
    diff = (p_new - p_old).dropna()
    ratio = (p_new["rho_avg"] / p_old["rho_avg"]).dropna()
    paired = pd.DataFrame([{
        "quantity": q, "old": float(s_old[col]), "old_err": float(s_old[col + "_err"]),
        "new": float(s_new[col]), "new_err": float(s_new[col + "_err"]),
        "paired_diff_mean": float(diff[q].mean()),
        "paired_diff_err": float(diff[q].std(ddof=1) / np.sqrt(len(diff))),
        "n_configs": int(len(diff)),
    } for q, col in (("rho_avg", "rho_avg_uohm_cm"), ("amr", "amr"), ("alpha", "alpha"))])
    paired["rho_ratio_mean"] = float(ratio.mean())
    paired["rho_ratio_err"] = float(ratio.std(ddof=1) / np.sqrt(len(ratio)))
    atomic_write(os.path.join(OUT, "onsite_paired.csv"), lambda p: paired.to_csv(p, index=False))
    rows = [headline_row(args.old_label, old, s_old), headline_row(args.new_label, new, s_new)]
    head = pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
    if os.path.exists(HEADLINE):
        prev = pd.read_csv(HEADLINE)
        head = pd.concat([prev[~prev["label"].isin(head["label"])], head], ignore_index=True)
    atomic_write(HEADLINE, lambda p: head.to_csv(p, index=False))
    with pd.option_context("display.width", 200):
        print(paired.to_string(index=False))
        print(head.to_string(index=False))


if __name__ == "__main__":
    main()
