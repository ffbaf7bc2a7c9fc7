"""Where in the k∥ zone the permalloy damping comes from, and why α is not monotonic in the mesh.

Reads the per-k∥ damping T_k = Re Tr ∂S†/∂θ ∂S/∂θ and transmission G_k that every transport
result file stores (``damping_k``, ``transmission_k``) for one configuration computed on several
shifted n × n meshes of the same structures, and

* writes them as one table (``<stem>_perk.csv``: mesh, i, j, kx, ky in 1/Å, L_layers, T_k, G_k;
  the slab moment per length in ``<stem>_moment.csv``);
* fits α = g (dT/dL) / (4π dM/dL) (seed Eq. 70, g = 2) on every mesh and on every shifted
  sub-mesh it contains (an m × m shifted mesh is the subset i = f a + (f − 1)/2 of the
  (f m) × (f m) one for odd f, :func:`tbmto.layers.kmesh`), so that meshes of different
  density are compared on identical T_k (``<stem>.csv``: mesh, k_per_vector, source,
  subset_factor, alpha, dT_dL_per_layer, participation at the longest L, share of the largest
  10 % of T_k);
* plots the map of T_k at the longest L on the densest mesh, with the points of the sparser
  sub-meshes marked, next to α against k∥ per primitive vector (``<stem>.png``). All outputs go
  to results/validation.

Usage (after ``tbmto run configs/permalloy_3x3_111_kscan{12,18,24}.yaml``, docs/validation.md
§14.6)::

    python benchmarks/kmesh_hotspots.py --results results/permalloy_3x3_111_kscan12 \\
        results/permalloy_3x3_111_kscan18 results/permalloy_3x3_111_kscan24 --supercell 3
    python benchmarks/kmesh_hotspots.py --from-perk results/validation/kmesh_hotspots_111_perk.csv --supercell 3
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from tbmto.io import atomic_write
from tbmto.layers import kmesh
from tbmto.observables import gilbert_alpha, k_participation

OUT = Path("results/validation")


def collect(roots: list[Path], config: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-k rows and the slab moment per length from the par/SOC transport files of ``config``."""
    rows, moments = [], []
    for root in roots:
        files = sorted(root.glob(f"transport/*/L*/c{config}_par_soc.json"))
        if not files:
            raise FileNotFoundError(f"no transport/*/L*/c{config}_par_soc.json under {root}")
        for f in files:
            d = json.loads(f.read_text())
            res, inp = d["result"], d["inputs"]
            n1, n2 = inp["kmesh"]
            if n1 != n2 or inp.get("kgrid", "shifted") != "shifted":
                raise ValueError(f"{f}: needs a shifted n x n mesh, got {inp['kmesh']} {inp.get('kgrid')}")
            ks = kmesh(np.array(d["structure_info"]["cell2d"], float), (n1, n2))
            L = int(res["slab_layers"])
            ij = np.indices((n1, n2)).reshape(2, -1)
            rows.append(pd.DataFrame({"mesh": n1, "i": ij[0], "j": ij[1], "kx": ks[:, 0], "ky": ks[:, 1],
                                      "L_layers": L, "T_k": res["damping_k"], "G_k": res["transmission_k"]}))
            moments.append({"mesh": n1, "L_layers": L, "moment_muB": res["moment_muB"]})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(moments).drop_duplicates()


def submeshes(n: int) -> list[tuple[int, int]]:
    """(m, f): the shifted m × m meshes inside the shifted n × n one, n = f m with odd f ≥ 1."""
    return [(n // f, f) for f in range(1, n + 1, 2) if n % f == 0 and n // f >= 2]


def _sub(grp: pd.DataFrame, f: int) -> pd.DataFrame:
    """Rows of the shifted (n/f) × (n/f) sub-mesh of the n × n mesh rows ``grp`` (odd f)."""
    c = (f - 1) // 2
    return grp[(grp["i"] % f == c) & (grp["j"] % f == c)]


def alpha_table(perk: pd.DataFrame, moment: pd.DataFrame, supercell: int) -> pd.DataFrame:
    """α on every mesh and sub-mesh of ``perk`` (slab moment slope from ``moment``)."""
    mom = moment.groupby("L_layers")["moment_muB"].first()
    out = []
    for n, grp in perk.groupby("mesh"):
        lens = np.sort(grp["L_layers"].unique())
        dM = np.polyfit(lens, mom.loc[lens].to_numpy(), 1)[0]
        for m, f in submeshes(int(n)):
            keep = _sub(grp, f)
            t = keep.groupby("L_layers")["T_k"].mean().loc[lens].to_numpy()
            dT = np.polyfit(lens, t, 1)[0]
            last = np.sort(keep.loc[keep["L_layers"] == lens[-1], "T_k"].to_numpy())[::-1]
            top = max(1, last.size // 10)
            out.append({"mesh": m, "k_per_vector": m * supercell, "source": f"{n}x{n}", "subset_factor": f,
                        "alpha": float(gilbert_alpha(dT, dM)), "dT_dL_per_layer": dT,
                        "participation_Lmax": k_participation(last),
                        "top10pct_share_Lmax": float(last[:top].sum() / last.sum())})
    return pd.DataFrame(out).sort_values(["mesh", "source"], ignore_index=True)


def figure(perk: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    """T_k map at the longest L on the densest mesh, and α against k per primitive vector."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = int(perk["mesh"].max())
    dense = perk[(perk["mesh"] == n) & (perk["L_layers"] == perk["L_layers"].max())]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.6))
    sc = ax.scatter(dense["kx"], dense["ky"], c=np.log10(dense["T_k"]), s=22, cmap="viridis", marker="h")
    fig.colorbar(sc, ax=ax, label=r"$\log_{10} T_k$ at L = %d layers" % dense["L_layers"].iloc[0])
    last = perk[perk["L_layers"] == perk["L_layers"].max()]
    for m, mk, col in ((4, "s", "k"), (6, "o", "r")):
        hosts = [h for h in sorted(last["mesh"].unique()) if h % m == 0 and (h // m) % 2 == 1]
        if hosts:
            pts = _sub(last[last["mesh"] == hosts[0]], hosts[0] // m)
            ax.scatter(pts["kx"], pts["ky"], facecolors="none", edgecolors=col, marker=mk, s=70,
                       label=f"{m}×{m} mesh points")
    ax.set_xlabel(r"$k_x$ (1/Å)")
    ax.set_ylabel(r"$k_y$ (1/Å)")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="upper right")
    native = table[table["subset_factor"] == 1]
    bx.plot(table["k_per_vector"], 1e3 * table["alpha"], "o", color="C0", label="every mesh and sub-mesh")
    bx.plot(native["k_per_vector"], 1e3 * native["alpha"], "-", color="C0", lw=0.8)
    for r in table.itertuples():
        bx.annotate(f"{r.mesh}×{r.mesh}", (r.k_per_vector, 1e3 * r.alpha), textcoords="offset points",
                    xytext=(5, 4), fontsize=7)
    bx.axhline(4.6, ls="--", color="k", lw=0.8, label="seed 0.0046")
    bx.set_xlabel(r"$k_\parallel$ per primitive reciprocal vector")
    bx.set_ylabel(r"$\alpha$ ($10^{-3}$), one configuration")
    bx.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150))
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", nargs="+", type=Path, help="results/<study> roots of the k-scan studies")
    src.add_argument("--from-perk", type=Path, help="a per-k table written by an earlier run")
    ap.add_argument("--config", type=int, default=0, help="disorder configuration (default 0)")
    ap.add_argument("--supercell", type=int, required=True, help="lateral cell m of the m x m supercell")
    ap.add_argument("--stem", default="kmesh_hotspots_111", help="output name stem under results/validation")
    args = ap.parse_args()
    if args.results:
        perk, moment = collect(args.results, args.config)
        atomic_write(OUT / f"{args.stem}_moment.csv", lambda tmp: moment.to_csv(tmp, index=False))
        atomic_write(OUT / f"{args.stem}_perk.csv", lambda tmp: perk.to_csv(tmp, index=False, float_format="%.9g"))
    else:
        perk = pd.read_csv(args.from_perk)
        moment = pd.read_csv(args.from_perk.with_name(args.from_perk.name.replace("_perk", "_moment")))
    table = alpha_table(perk, moment, args.supercell)
    atomic_write(OUT / f"{args.stem}.csv", lambda tmp: table.to_csv(tmp, index=False))
    figure(perk, table, OUT / f"{args.stem}.png")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
