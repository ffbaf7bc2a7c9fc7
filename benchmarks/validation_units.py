"""Exact synthetic check of the unit chain G → R·A → ρ, AMR, α (docs/validation.md, check 5).

Transport records are generated from chosen bulk values (ρ∥, ρ⊥ in μΩ·cm, interface R·A,
dT/dL, moment per layer) for the real Cu | Py 2×2 [001] geometry (a = 3.548 Å, layer spacing
a/2, supercell area 4 · a²/2), with G = A / [(e²/h)⁻¹ (RA₀ + ρ L)] in e²/h, and passed
through tbmto.tables.transport_record → summary_table. Configurations carry a zero-mean
alternating perturbation so the `spread` fit has a configuration spread. Prints the
recovered values; exit status 1 when any differs from the input by more than 1e-9 relative.
"""
from __future__ import annotations

import sys

import numpy as np

from tbmto.observables import E2_OVER_H_SIEMENS
from tbmto.io import TRANSPORT_FORMAT
from tbmto.tables import summary_table, transport_record

A_LAT = 3.548
AREA_NM2 = 4 * A_LAT**2 / 2 / 100.0          # 2×2 supercell of the a/√2 square cell
D_M = A_LAT / 2 * 1e-10                       # [001] layer spacing (m)
RHO = {"par": 4.0, "perp": 3.3}               # μΩ·cm
RA0 = 1.3e-15                                 # Ω·m²
DT_DL, T0, DM_DL = 0.05, 7.0, 4.057           # per layer, —, μB per layer
G_FACTOR = 2.0


def records():
    rows = []
    for L in (8, 16, 32, 64):
        for c, eps in enumerate((+1.0, -1.0, 0.0)):
            for m, rho in RHO.items():
                ra = RA0 * (1 + 0.01 * eps) + rho * 1e-8 * L * D_M
                g = AREA_NM2 * 1e-18 / ra / E2_OVER_H_SIEMENS
                plan_row = {"system": "syn", "scan": "syn", "kind": "alloy", "x": 0.2, "x_Fe": 0.2,
                            "delta_angstrom": 0.0, "lattice_constant_angstrom": A_LAT,
                            "layer_spacing_angstrom": A_LAT / 2, "direction": "001",
                            "L_layers": L, "config": c, "magnetization": m, "soc": True}
                data = {"format": TRANSPORT_FORMAT,
                        "inputs": {"magnetization_label": m, "soc": True, "soc_form": "exact",
                                   "linearisation": "fermi", "kgrid": "shifted"},
                        "result": {"G_e2h": g, "area_nm2": AREA_NM2, "damping_T": T0 + 0.1 * eps + DT_DL * L,
                                   "moment_muB": DM_DL * L, "n_k": 1, "seconds": 0.0, "slab_layers": L}}
                rows.append(transport_record(data, plan_row))
    return rows


def main() -> int:
    import pandas as pd
    s = summary_table(pd.DataFrame(records()), method="spread", g=G_FACTOR).iloc[0]
    rho_avg = (RHO["par"] + 2 * RHO["perp"]) / 3
    expect = {"rho_par_uohm_cm": RHO["par"], "rho_perp_uohm_cm": RHO["perp"], "rho_avg_uohm_cm": rho_avg,
              "amr": (RHO["par"] - RHO["perp"]) / rho_avg,
              "alpha": G_FACTOR * DT_DL / (4 * np.pi * DM_DL),
              "RA_interface_par_ohm_m2": RA0}
    bad = 0
    for k, v in expect.items():
        rel = abs(s[k] - v) / abs(v)
        bad += rel > 1e-9
        print(f"{k:26s} input {v:.10g}  recovered {s[k]:.10g}  rel.diff {rel:.1e}")
    return int(bad > 0)


if __name__ == "__main__":
    sys.exit(main())
