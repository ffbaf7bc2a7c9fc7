"""k∥-summed transmission and damping trace of a disordered magnetic slab via kmap.

Run serially (``python ksum_transport.py``) or under ``mpiexec -n N``; rank 0 prints
the world size and the k sums as exact float.hex strings, which must not depend on N.
"""

import numpy as np

from tbmto.parallel import kmap
from tbmto.wfm import smatrix
from tbmto.wfm.models import SIGMA_X, SIGMA_Y, SIGMA_Z, spinful_strip_blocks

WIDTH, LAYERS, ENERGY = 3, 6, 0.3


def blocks_at(k):
    """Cylinder of WIDTH sites with transverse Bloch phase e^{ik} on the wrap bond."""
    h, v = spinful_strip_blocks(WIDTH, rashba=0.3)
    wrap = np.zeros((2 * WIDTH, 2 * WIDTH), complex)
    wrap[2 * (WIDTH - 1):, :2] = -np.exp(1j * k) * np.eye(2)
    return h + wrap + wrap.conj().T, v


def one_k(k):
    h, v = blocks_at(k)
    rng = np.random.default_rng(12345)  # same disorder for every k (one configuration)
    hs, dh = [], []
    for _ in range(LAYERS):
        m = rng.normal(size=(WIDTH, 3))
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        sig = (SIGMA_X, SIGMA_Y, SIGMA_Z)
        exch = sum(np.kron(np.diag(m[:, a]), sig[a]) for a in range(3))
        dm = np.cross([0.0, 0.0, 1.0], m)
        hs.append(h + 0.5 * exch + np.kron(np.diag(rng.uniform(-1, 1, WIDTH)), np.eye(2)))
        dh.append(0.5 * sum(np.kron(np.diag(dm[:, a]), sig[a]) for a in range(3)))
    res = smatrix(h, v, hs, [v] * (LAYERS + 1), h, v, energy=ENERGY, dh_slab=dh)
    return res.transmission(), res.damping_trace()


def main():
    from tbmto.parallel import world_comm

    comm = world_comm()
    ks = 2 * np.pi * (np.arange(7) + 0.5) / 7
    results = kmap(one_k, ks, progress=False)
    t_sum = 0.0
    g_sum = 0.0
    for t, g in results:  # reduction in item order
        t_sum += t
        g_sum += g
    size = 1 if comm is None else comm.Get_size()
    rank = 0 if comm is None else comm.Get_rank()
    if rank == 0:
        print(f"size={size} T={t_sum.hex()} G={g_sum.hex()}")


if __name__ == "__main__":
    main()
