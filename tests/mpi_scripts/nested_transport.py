"""Nested-length transport (G and the damping tensor per length) of a disordered magnetic stack.

Run as ``python nested_transport.py CU.json MAGNET.json`` serially or under ``mpiexec -n N``;
rank 0 prints the world size and, per length, G, T_xx, T_yy, T_xy as exact float.hex strings,
which must not depend on N (the k sums are reduced in k order on every rank).
"""

import sys

from tbmto.parallel import world_comm
from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.transport import compute

LENGTHS = (2, 5, 9)


def main():
    comm = world_comm()
    pot = load(*sys.argv[1:3], linearisation="band_centre")
    atoms = build_stack("001", (1, 1), layers=LENGTHS[-1], lattice_constant=3.614,
                        composition={"Ni": 0.5, "Cu": 0.5}, delta=0.05, seed=3, nested_lengths=LENGTHS,
                        magnetization=(0.3, 0.0, 1.0), lead_layers=4)
    res = compute(atoms, pot, kmesh=(3, 1), damping=True, lengths=LENGTHS, comm=comm, progress=False,
                  soc_form="orthogonal")
    rank = 0 if comm is None else comm.Get_rank()
    size = 1 if comm is None else comm.Get_size()
    if rank == 0:
        vals = " ".join(f"L{r.slab_layers}:" + ",".join(float(getattr(r, k)).hex() for k in
                                                         ("G_e2h", "damping_T", "damping_T_yy", "damping_T_xy"))
                        for r in res)
        print(f"size={size} {vals}")


if __name__ == "__main__":
    main()
