"""Add or replace one row of the permalloy headline table from a study's tables.

``results/validation/permalloy_headline.csv`` holds one row per published permalloy setting:
label, direction, supercell, kmesh, lengths_nm, configurations, linearisation, soc_form,
alloy_model, ρ∥, ρ⊥, ρ̄, AMR, α (each with ``_err``) and core_hours (the transport jobs' CPU
time: with nested lengths one sweep per (configuration, magnetisation), whose seconds every
length row repeats, so the longest row's time is counted once). Rows written before a column
existed get it from ``--fill`` (e.g. ``alloy_model=supercell``: CPA potentials are the default
since 2026-12-02). Rows labelled ``converged_*`` are kept last.

Usage::

    python benchmarks/permalloy_headline.py TABLES_DIR --label LABEL --alloy-model cpa \\
        [--system SYSTEM] [--window LO-HI] [--fill alloy_model=supercell]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from tbmto.io import atomic_write, read_table
from tbmto.tables import summary_table

HEADLINE = os.path.join("results", "validation", "permalloy_headline.csv")
QUANTITIES = ("rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha")
COLUMNS = (["label", "direction", "supercell", "kmesh", "lengths_nm", "configurations", "linearisation",
            "soc_form", "alloy_model"] + [f"{q}{e}" for q in QUANTITIES for e in ("", "_err")] + ["core_hours"])


def core_hours(transport: pd.DataFrame) -> float:
    """CPU hours of the transport jobs behind ``transport`` (one sweep per nested group)."""
    keys = ["system", "config", "magnetization", "soc"]
    if "nested" in transport and transport["nested"].eq(True).all():
        return float(transport.groupby(keys)["seconds"].max().sum()) / 3600.0
    return float(transport["seconds"].sum()) / 3600.0


def in_window(transport: pd.DataFrame, window_nm: tuple[float, float]) -> pd.DataFrame:
    """The rows of ``transport`` with ``window_nm[0] ≤ L ≤ window_nm[1]`` (nm)."""
    return transport[(transport["L_nm"] >= window_nm[0]) & (transport["L_nm"] <= window_nm[1])]


def headline_row(tables: str, label: str, alloy_model: str, supercell: str, kmesh: str,
                 system: str | None = None, window_nm: tuple[float, float] | None = None) -> dict:
    """The headline row of the SOC runs of ``system`` (default: the only system).

    ρ, AMR and α are refitted from the transport table with :func:`tbmto.tables.summary_table`
    (spread errors, g = 2, α from m ∥: the fit settings of every permalloy config), over the
    slabs with ``window_nm[0] ≤ L ≤ window_nm[1]`` (nm) when a window is given; core_hours is
    the whole study's.
    """
    tr = read_table(tables, "transport")
    systems = sorted(set(tr["system"]))
    system = system or (systems[0] if len(systems) == 1 else None)
    if system not in systems:
        raise SystemExit(f"give --system, one of {systems}")
    tr = tr[(tr["system"] == system) & tr["soc"]]
    cost = core_hours(tr)
    if window_nm is not None:
        tr = in_window(tr, window_nm)
    s = summary_table(tr).iloc[0]
    lengths = np.sort(tr["L_nm"].unique())
    row = {"label": label, "direction": str(tr["direction"].iloc[0]), "supercell": supercell, "kmesh": kmesh,
           "lengths_nm": f"{lengths[0]:.1f}-{lengths[-1]:.1f}", "configurations": int(tr["config"].nunique()),
           "linearisation": tr["linearisation"].iloc[0], "soc_form": tr["soc_form"].iloc[0],
           "alloy_model": alloy_model, "core_hours": cost}
    row.update({f"{q}{e}": float(s[f"{q}{e}"]) for q in QUANTITIES for e in ("", "_err")})
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tables", help="the study's tables directory (transport, summary)")
    ap.add_argument("--label", required=True)
    ap.add_argument("--alloy-model", required=True, choices=["cpa", "supercell"])
    ap.add_argument("--supercell", default="2x2")
    ap.add_argument("--kmesh", default="6x6")
    ap.add_argument("--system", default=None)
    ap.add_argument("--window", default=None, metavar="LO-HI",
                    help="fit only the slabs with LO <= L <= HI (nm); default: all lengths")
    ap.add_argument("--fill", action="append", default=[], metavar="COLUMN=VALUE",
                    help="value of a column for existing rows that lack it")
    ap.add_argument("--core-hours-from", action="append", default=[], metavar="LABEL=TRANSPORT_CSV",
                    help="core_hours of an existing row from its published transport table")
    args = ap.parse_args()
    old = pd.read_csv(HEADLINE, dtype={"direction": str}) if os.path.exists(HEADLINE) else pd.DataFrame()
    for item in args.fill:
        col, val = item.split("=", 1)
        if col not in old:
            old[col] = val
    for item in args.core_hours_from:
        label, path = item.split("=", 1)
        tr = pd.read_csv(path, dtype={"direction": str})
        old.loc[old["label"] == label, "core_hours"] = core_hours(tr[tr["soc"]])
    window = tuple(float(v) for v in args.window.split("-")) if args.window else None
    row = headline_row(args.tables, args.label, args.alloy_model, args.supercell, args.kmesh, args.system, window)
    rows = [r for r in old.to_dict("records") if r.get("label") != args.label] + [row]
    # the converged rows stay last, whatever row is added
    rows.sort(key=lambda r: str(r.get("label", "")).startswith("converged_"))
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    atomic_write(HEADLINE, lambda tmp: out.to_csv(tmp, index=False))
    print(out[["label", "alloy_model", "rho_avg_uohm_cm", "amr", "alpha", "core_hours"]].to_string(index=False))


if __name__ == "__main__":
    main()
