"""Time the assembly of the block-tridiagonal secular matrix of a large slab.

Default: a 5×5 lateral supercell of fcc(001) with 40 slab layers (+ 4 Cu buffer layers on each
side), 1200 atoms, PLs of 2 atomic layers = 50 atoms = 900 spin-orbitals. Prints the time of

1. the S^α pairs (``screened_pairs`` on the padded structure + the two ideal-lead stacks),
2. the on-site P^α(E_F) (and ∂P^α/∂θ) of all atoms,
3. the Bloch sums + dense H blocks at one k∥ (first call, which touches fresh memory, and
   the best later call, the steady state of a k loop),

and optionally one WFM solve. Potential parameters: ``tests/data/cu_rslmto.json`` (the timing
does not depend on the parameter values). With ``--delta`` > 0 every screening cluster is
distinct (frozen thermal disorder), the worst case for step 1.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_assembly.py [--supercell 5] [--layers 40]
        [--delta 0.05] [--repeat 3] [--wfm]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from tbmto.layers import build_layered_system, kmesh
from tbmto.lmto.potential_functions import onsite_p, onsite_p_dtheta
from tbmto.potentials import load
from tbmto.structure import build_stack

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "cu_rslmto.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--supercell", type=int, default=5)
    ap.add_argument("--layers", type=int, default=40)
    ap.add_argument("--direction", default="001")
    ap.add_argument("--delta", type=float, default=0.05, help="RMS displacement (Å)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--wfm", action="store_true", help="also time one WFM solve")
    args = ap.parse_args()

    pot = load(DATA, linearisation="band_centre")
    a = pot.lattice_constant_angstrom
    atoms = build_stack(args.direction, (args.supercell, args.supercell), layers=args.layers,
                        lattice_constant=a, composition={"Cu": 1.0}, delta=args.delta)
    print(f"structure: fcc({args.direction}) {args.supercell}x{args.supercell}, L = {args.layers}, "
          f"delta = {args.delta} Å, {len(atoms)} atoms; OMP_NUM_THREADS = "
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")

    t0 = time.perf_counter()
    system = build_layered_system(atoms)
    t_pairs = time.perf_counter() - t0
    sizes = [len(p) for p in system.pl_atoms]
    print(f"S^alpha pairs: {t_pairs:.2f} s total (padded region {system.timings['salpha_pairs_s']:.2f} s, "
          f"{system.timings['n_padded_atoms']} atoms; ideal leads {system.timings['salpha_lead_pairs_s']:.2f} s); "
          f"{system.n_pairs} pairs, {system.n_pl} PLs of {system.n_pl_layers} layers, "
          f"max {18 * max(sizes)} spin-orbitals per PL")

    par = pot.for_atoms(atoms.get_chemical_symbols())
    m = atoms.arrays["magmom_dir"]
    t0 = time.perf_counter()
    p_all = onsite_p(0.0, par["C"], par["sqrt_delta"], par["gamma"], par["xi"], m)
    t_p = time.perf_counter() - t0
    t0 = time.perf_counter()
    onsite_p_dtheta(0.0, par["C"], par["sqrt_delta"], par["gamma"], par["xi"], m, axis=[1.0, 0.0, 0.0])
    t_dp = time.perf_counter() - t0
    print(f"P^alpha(E_F): {t_p:.3f} s; dP^alpha/dtheta: {t_dp:.3f} s ({len(atoms)} atoms)")

    k = kmesh(system.cell2d, (4, 4))[5]
    p_l, p_r = p_all[system.left_lead_atoms], p_all[system.right_lead_atoms]
    times = []
    for _ in range(max(args.repeat, 1)):
        t0 = time.perf_counter()
        blocks = system.hamiltonian_blocks(k, p_all, p_l, p_r)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    system.salpha_blocks(k)
    t_s = time.perf_counter() - t0
    nbytes = sum(b.nbytes for b in blocks.h_slab + blocks.v_slab)
    print(f"Bloch sums + H blocks at one k: first call {times[0]:.3f} s (fresh memory), later calls "
          f"{np.min(times[1:] or times):.3f} s (spinless S^alpha(k) Bloch sums alone {t_s:.3f} s); blocks {nbytes / 2**20:.0f} MiB")

    if args.wfm:
        from tbmto.wfm import smatrix

        t0 = time.perf_counter()
        res = smatrix(blocks.h_left, blocks.v_left, blocks.h_slab, blocks.v_slab,
                      blocks.h_right, blocks.v_right)
        print(f"WFM solve at one k: {time.perf_counter() - t0:.2f} s "
              f"(T = {res.transmission():.6f}, N_left = {res.n_left})")


if __name__ == "__main__":
    main()
