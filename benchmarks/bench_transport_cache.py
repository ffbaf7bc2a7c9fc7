"""One transport job without, with a cold and with a warm lead-mode cache.

A study repeats the same Cu leads at the same k∥ in every job (lengths, disorder
configurations, magnetisations), so after the first job the lead eigenproblem
(:func:`tbmto.wfm.lead_modes`) can be read from ``results/<study>/cache/leads``
(:class:`tbmto.wfm.LeadModeCache`). For each lateral supercell this script runs, as a
Snakemake job would (full :func:`tbmto.transport.compute`, S^α pairs included):

1. ``no cache``  : configuration 1, leads computed inside :func:`tbmto.wfm.smatrix`;
2. ``cold``      : configuration 0 with an empty cache directory (computes + writes);
3. ``warm``      : configuration 1 again, new cache object on that directory (disk hits
   only, as the next job of the study) — checked bitwise equal to run 1;

after an untimed warm-up job (each mode: best of ``--repeat`` runs; a cold run gets a fresh
empty directory each time, the warm runs read the first cold run's directory), and prints
wall times, the per-k lead and WFM times and the ratio no-cache / warm measured in
this run. Slab: Cu with frozen thermal displacements Δ (the timing does not depend on the
parameter values; potentials ``tests/data/cu_rslmto.json``), SOC on, Cu leads.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_transport_cache.py [--supercell 2 3] [--layers 8]
        [--kmesh 8] [--delta 0.05] [--damping] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.transport import compute
from tbmto.wfm import LeadModeCache

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "cu_rslmto.json"


def _run(atoms, pot, args, cache_dir):
    """Best of ``args.repeat`` runs (wall s); a cold run gets a fresh empty directory each time."""
    best = (float("inf"), None)
    for rep in range(args.repeat):
        cache = None
        if cache_dir is not None:
            path = Path(cache_dir)
            if cache_dir.endswith("cold"):
                path = path / f"r{rep}"
            cache = LeadModeCache(path)
        t0 = time.perf_counter()
        res = compute(atoms, pot, kmesh=(args.kmesh, args.kmesh), soc=True, soc_form="orthogonal", damping=args.damping,
                      progress=False, lead_cache=cache)
        best = min(best, (time.perf_counter() - t0, res), key=lambda x: x[0])
    return best[1], best[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--supercell", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--kmesh", type=int, default=8)
    ap.add_argument("--delta", type=float, default=0.05, help="RMS displacement (Å)")
    ap.add_argument("--damping", action="store_true", help="also compute dS/dθ (magnetic slab not needed)")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs per mode (default 1)")
    args = ap.parse_args()
    pot = load(DATA, linearisation="band_centre")
    a = pot.lattice_constant_angstrom
    print(f"OMP_NUM_THREADS = {os.environ.get('OMP_NUM_THREADS', 'unset')}; best of {args.repeat}; L = {args.layers}, "
          f"{args.kmesh}x{args.kmesh} k, delta = {args.delta} Å, SOC on, damping {args.damping}")
    for sc in args.supercell:
        confs = [build_stack("001", (sc, sc), layers=args.layers, lattice_constant=a,
                             composition={"Cu": 1.0}, delta=args.delta, config=c) for c in (0, 1)]
        # warm-up (imports, first-touch allocations) outside the timings
        compute(confs[1], pot, kmesh=(1, 1), soc=True, soc_form="orthogonal", progress=False)
        with tempfile.TemporaryDirectory(prefix="leadcache_") as tmp:
            ref, t_ref = _run(confs[1], pot, args, None)
            cold, t_cold = _run(confs[0], pot, args, os.path.join(tmp, "cold"))
            warm, t_warm = _run(confs[1], pot, args, os.path.join(tmp, "cold", "r0"))
            size = sum(f.stat().st_size for f in Path(tmp, "cold", "r0").glob("*.npz"))
        same = ref.transmission_k == warm.transmission_k and ref.damping_k == warm.damping_k
        lc_c, lc_w = cold.lead_cache, warm.lead_cache
        print(f"\n{sc}x{sc}: {len(confs[0])} atoms, {ref.n_principal_layers} PLs of {ref.pl_layers} layers, "
              f"{ref.n_k} k; cache {lc_c['misses']} entries, {size / 2**20:.1f} MiB on disk")
        print(f"  no cache : {t_ref:7.2f} s  (S^alpha pairs {ref.timings['salpha_pairs_s'] + ref.timings['salpha_lead_pairs_s']:.2f} s, "
              f"WFM incl. leads {ref.timings['wfm_s_per_k'] * 1e3:.1f} ms/k, assembly {ref.timings['assembly_s_per_k'] * 1e3:.1f} ms/k)")
        print(f"  cold     : {t_cold:7.2f} s  (leads {lc_c['leads_s_per_k'] * 1e3:.1f} ms/k computed+written, "
              f"WFM incl. leads {cold.timings['wfm_s_per_k'] * 1e3:.1f} ms/k; misses {lc_c['misses']})")
        print(f"  warm     : {t_warm:7.2f} s  (leads {lc_w['leads_s_per_k'] * 1e3:.1f} ms/k read, "
              f"WFM incl. leads {warm.timings['wfm_s_per_k'] * 1e3:.1f} ms/k; disk hits {lc_w['disk_hits']}, "
              f"misses {lc_w['misses']})")
        print(f"  ratio no-cache/warm = {t_ref / t_warm:.2f} (whole job), "
              f"{ref.timings['wfm_s_per_k'] / warm.timings['wfm_s_per_k']:.2f} (WFM per k); "
              f"cold/no-cache = {t_cold / t_ref:.2f}; warm results bitwise identical: {same}")


if __name__ == "__main__":
    main()
