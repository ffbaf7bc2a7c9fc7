"""Compare the on-site spin–orbit forms with the exact single-site solution (issue: E_F physics).

For fcc Cu, Ni, Co, Pt and bcc Fe (self-consistent potentials from ``tbmto scf``, linearised at
E_F) and m ∥ [001]:

* on-site: the SOC part of P^α(E_F) of each form against the exact one, per l block,
  ‖P_form − P_exact‖_F / ‖P_exact − P_noSOC‖_F (the screened form's on-site part P − A; its X
  terms are a first-order change of basis that only shows in K(k));
* bulk Fermi surface: the crossings det K(k) = 0 at E_F along three lines from Γ
  (:func:`tbmto.bulk.fermi_crossings`), each form against the exact form: number of crossings
  and the largest and mean |Δk| (2π/a) of the matched ones.

Usage::

    python benchmarks/soc_forms.py [--pot-dir DIR] [--out results/validation/soc_forms.csv]

Potentials missing in DIR are computed (``tbmto.asa.scf``, 12³ k, a few seconds each).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from tbmto.asa import scf, write_potentials
from tbmto.bulk import LINES, BulkSecular, fermi_crossings
from tbmto.onsite import SOC_FORMS, onsite_terms
from tbmto.potentials import load

ELEMENTS = {"Cu": "fcc", "Ni": "fcc", "Co": "fcc", "Pt": "fcc", "Fe": "bcc"}
L_BLOCKS = {"p": [9 * s + L for s in range(2) for L in range(1, 4)],
            "d": [9 * s + L for s in range(2) for L in range(4, 9)]}


def potentials_for(element: str, lattice: str, pot_dir: str):
    path = os.path.join(pot_dir, f"{element}.json")
    if not os.path.exists(path):
        write_potentials(scf(element, lattice, kmesh=12, progress=False), path)
    return load(path)


def onsite_rows(pot, element: str) -> list[dict]:
    m = np.array([[0.0, 0.0, 1.0]])
    exact = onsite_terms(pot, [element], m, 0.0, soc=True, soc_form="exact").p[0]
    nosoc = onsite_terms(pot, [element], m, 0.0, soc=False).p[0]
    rows = []
    for form in SOC_FORMS:
        t = onsite_terms(pot, [element], m, 0.0, soc=True, soc_form=form)
        p = t.p[0] - (t.a[0] if t.a is not None else 0.0)
        for name, idx in L_BLOCKS.items():
            ix = np.ix_(idx, idx)
            ref = np.linalg.norm(exact[ix] - nosoc[ix])
            rows.append({"element": element, "form": form, "block": name,
                         "onsite_rel_dev": float(np.linalg.norm(p[ix] - exact[ix]) / ref),
                         "soc_norm": float(ref)})
    return rows


def crossing_rows(pot, element: str, lattice: str, n_grid: int) -> list[dict]:
    ref = {}
    out = {}
    for form in SOC_FORMS:
        sec = BulkSecular(pot, element, lattice, soc=True, soc_form=form)
        out[form] = {ln: fermi_crossings(sec, end, n_grid=n_grid) for ln, end in LINES[lattice].items()}
    ref = out["exact"]
    rows = []
    for form in SOC_FORMS:
        for ln in LINES[lattice]:
            a = [c.k for c in out[form][ln]]
            b = [c.k for c in ref[ln]]
            matched = len(a) == len(b)
            dk = np.abs(np.array(a) - np.array(b)) if matched and a else np.array([np.nan])
            rows.append({"element": element, "form": form, "line": ln, "n_crossings": len(a),
                         "n_crossings_exact": len(b), "max_dk": float(np.max(dk)),
                         "mean_dk": float(np.mean(dk)),
                         "crossings": " ".join(f"{x:.5f}" for x in a)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pot-dir", default="results/soc_forms/potentials")
    ap.add_argument("--out", default="results/validation/soc_forms.csv")
    ap.add_argument("--n-grid", type=int, default=400)
    args = ap.parse_args()
    os.makedirs(args.pot_dir, exist_ok=True)
    onsite, fs = [], []
    for el, lat in ELEMENTS.items():
        t0 = time.perf_counter()
        pot = potentials_for(el, lat, args.pot_dir)
        onsite += onsite_rows(pot, el)
        fs += crossing_rows(pot, el, lat, args.n_grid)
        print(f"{el}: {time.perf_counter() - t0:.1f} s", flush=True)
    on = pd.DataFrame(onsite)
    cr = pd.DataFrame(fs)
    summary = (cr.groupby(["element", "form"])
               .agg(max_dk=("max_dk", "max"), mean_dk=("mean_dk", "mean"),
                    count_mismatch=("n_crossings", lambda s: int((s != cr.loc[s.index, "n_crossings_exact"]).sum())))
               .reset_index())
    piv = on.pivot_table(index=["element", "form"], columns="block", values="onsite_rel_dev").reset_index()
    piv.columns = ["element", "form", "onsite_rel_dev_d", "onsite_rel_dev_p"]
    table = summary.merge(piv, on=["element", "form"])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    table.to_csv(args.out, index=False)
    cr.to_csv(args.out.replace(".csv", "_crossings.csv"), index=False)
    with pd.option_context("display.width", 160, "display.float_format", "{:.2e}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
