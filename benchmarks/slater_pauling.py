"""Slater–Pauling scans of the alloy self-consistency (docs/validation.md "Any alloy").

Runs ``tbmto.asa.scf`` (both alloy models, CPA and supercell; default settings: kmesh 12,
cpa_kmesh 16, Vegard lattice constants) for bcc Fe(1−x)Co(x), fcc Ni(1−x)Cu(x) and fcc Ni(1−x)Co(x) and writes
``slater_pauling.csv`` (series, lattice, host, x, site fraction, lattice constant, average moment
M̄ = Σ site fraction × species moment, species moments, iterations, seconds) and
``slater_pauling.png`` (M̄ versus the electron count per atom, the Slater–Pauling plot) to
``--out``. About 15 minutes on one core.

Usage: python benchmarks/slater_pauling.py [--out results/validation] [--kmesh 12]
       [--alloy-model cpa supercell]
"""
from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from tbmto.asa import scf
from tbmto.io import atomic_write

SERIES = {
    "FeCo": ("bcc", "Fe", "Co", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
    "NiCu": ("fcc", "Ni", "Cu", [0.0, 0.2, 0.4, 0.5, 0.6]),
    "NiCo": ("fcc", "Ni", "Co", [0.0, 0.25, 0.5, 0.75, 1.0]),
}
VALENCE = {"Fe": 8, "Co": 9, "Ni": 10, "Cu": 11}
"""Electrons per atom outside the argon core (the Slater–Pauling abscissa)."""


def scan(kmesh: int, alloy_model: str) -> pd.DataFrame:
    rows = []
    for name, (lattice, host, solute, xs) in SERIES.items():
        for x in xs:
            t0 = time.perf_counter()
            d = scf({host: 1.0 - x, solute: x}, lattice, kmesh=kmesh, alloy_model=alloy_model,
                    progress=False)
            sp = d["species"]
            frac = {el: v["site_fraction"] for el, v in sp.items()}
            rows.append({
                "series": name, "alloy_model": alloy_model, "lattice": lattice, "host": host, "x": x, "x_element": solute,
                "site_fraction": frac.get(solute, 0.0),
                "lattice_constant_angstrom": d["lattice_constant_angstrom"],
                "electrons_per_atom": sum(f * VALENCE[el] for el, f in frac.items()),
                "m_avg_muB": sum(frac[el] * v["moment_muB"] for el, v in sp.items()),
                "m_host_muB": sp[host]["moment_muB"] if host in sp else float("nan"),
                "m_solute_muB": sp[solute]["moment_muB"] if solute in sp else float("nan"),
                "iterations": d["provenance"]["iterations"], "seconds": time.perf_counter() - t0,
            })
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def figure(df: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    for ((name, model), grp), marker in zip(df.groupby(["series", "alloy_model"], sort=False), "osdosd"):
        ax.plot(grp["electrons_per_atom"], grp["m_avg_muB"], marker=marker,
                ls="-" if model == "cpa" else "--", label=f"{name} ({grp['lattice'].iloc[0]}, {model})")
    ax.set_xlabel("valence electrons per atom")
    ax.set_ylabel(r"average moment ($\mu_B$/atom)")
    ax.set_title("Slater–Pauling, LSDA-ASA: CPA (solid) and supercell (dashed)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150))
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/validation")
    ap.add_argument("--kmesh", type=int, default=12)
    ap.add_argument("--alloy-model", nargs="+", default=["cpa", "supercell"])
    args = ap.parse_args()
    df = pd.concat([scan(args.kmesh, m) for m in args.alloy_model], ignore_index=True)
    atomic_write(os.path.join(args.out, "slater_pauling.csv"), lambda tmp: df.to_csv(tmp, index=False))
    figure(df, os.path.join(args.out, "slater_pauling.png"))


if __name__ == "__main__":
    main()
