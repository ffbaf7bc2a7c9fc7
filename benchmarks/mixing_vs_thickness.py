"""Spin-mixing conductance of clean Cu | F(d) | Cu versus the F thickness (issue 14 checks).

Self-consistent Cu, Co and Ni at the Cu lattice constant (3.6149 Å, kmesh 12), 1×1 lateral
cells, ``--kmesh`` k∥ points, thicknesses ``--layers``; for Cu|Co(111) and Cu|Ni(001) (the
seed, Sec. IV: Re g↑↓ close to the Cu Sharvin conductance per spin, |Im g↑↓| ≪ Re g↑↓, the
transmission mixing conductance decaying within a few monolayers; a slow oscillation with d
for Cu|Ni(001)). Writes ``mixing_vs_thickness.csv`` and ``mixing_vs_thickness.png`` to
``--out`` (10¹⁵ Ω⁻¹ m⁻², left interface; the right one is equal by symmetry).

Usage: python benchmarks/mixing_vs_thickness.py [--out results/validation] [--kmesh 24]
       [--layers 1 2 3 4 6 8 12 16]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from tbmto.asa import scf
from tbmto.io import atomic_write, write_potentials
from tbmto.materials import element_lattice_constant
from tbmto.mixing import compute_mixing
from tbmto.potentials import load
from tbmto.structure import build_stack

SYSTEMS = (("Co", "111"), ("Ni", "001"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/validation")
    ap.add_argument("--kmesh", type=int, default=24)
    ap.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 8, 10, 12, 16])
    args = ap.parse_args()
    a = element_lattice_constant("Cu", "fcc")
    tmp = tempfile.mkdtemp()
    for el in ("Cu", "Co", "Ni"):
        write_potentials(scf(el, "fcc", a, kmesh=12, progress=False), os.path.join(tmp, f"{el}.json"))
    rows = []
    for fm, direction in SYSTEMS:
        pots = load(os.path.join(tmp, f"{fm}.json"), os.path.join(tmp, "Cu.json"))
        for d in args.layers:
            t0 = time.perf_counter()
            atoms = build_stack(direction=direction, supercell=(1, 1), layers=d, lattice_constant=a,
                                lead="Cu", composition={fm: 1.0}, system=f"Cu{fm}")
            res = compute_mixing(atoms, pots, kmesh=(args.kmesh, args.kmesh), progress=False)
            rows.append({"interface": f"Cu|{fm}({direction})", "direction": direction, "d_layers": d,
                         "intermixed_layers": 0, "config": 0, **res.per_area(),
                         "seconds": time.perf_counter() - t0})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    atomic_write(os.path.join(args.out, "mixing_vs_thickness.csv"), lambda p: df.to_csv(p, index=False))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
    for ax, (name, grp) in zip(axes, df.groupby("interface", sort=False)):
        for col, label, style in (("re_gmix_1e15", r"Re $G^{\uparrow\downarrow}$", "o-"),
                                  ("im_gmix_1e15", r"Im $G^{\uparrow\downarrow}$", "s-"),
                                  ("re_gmix_t_1e15", r"Re $G_t^{\uparrow\downarrow}$", "^--"),
                                  ("im_gmix_t_1e15", r"Im $G_t^{\uparrow\downarrow}$", "v--")):
            ax.plot(grp["d_layers"], grp[col], style, label=label, ms=4)
        ax.axhline(grp["sharvin_n_1e15"].iloc[0], color="k", lw=0.8, ls=":", label="Cu Sharvin / spin")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("F thickness d (layers)")
    axes[0].set_ylabel(r"$10^{15}\ \Omega^{-1}\mathrm{m}^{-2}$")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    atomic_write(os.path.join(args.out, "mixing_vs_thickness.png"), lambda p: fig.savefig(p, format="png", dpi=150))


if __name__ == "__main__":
    main()
