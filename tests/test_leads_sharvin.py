"""Sharvin limit of clean lead metals: X | X | X with SOC transmits every lead channel.

For a stack whose slab, buffers and leads are all the same ideal element X (no disorder) the
scattering region is a piece of the lead, so every propagating Bloch state is transmitted with
probability one: G = N_modes (e²/h, both spins, k∥-averaged as in ``TransportResult``) at every k∥,
N_left = N_right, and G does not depend on the slab length L. This checks, element by element,
that the slab Hamiltonian (on-site terms with SOC, S^α with the lattice's Wigner–Seitz radius,
the buffers) is the same as the leads' and that the mode counting matches the transmission.

Elements: bcc Fe, Cr, V, W and fcc Cu, Ag, Au, Pd, Pt along [001]; in addition bcc W along
[110] and fcc Pt along [111] (the 5d metals, strongest SOC). bcc Fe [110] is in test_bcc.py.

Potentials: one coarse self-consistent ``tbmto.asa.scf`` per element (module-scoped, at the
default lattice constant of ``tbmto.asa.scf``; 8³ k mesh, 1e−4 Ry), about 4–7 s each on one
core (Cr: 13–17 s); the whole module takes about 60 s.
Transport: 1×1 lateral cell, 3×3 k∥, nested lengths L = 2, 4, 6 from one sweep.

Tolerance: the deviations |G − N|/N, |G(L) − G(L')|/N and the per-k∥ distance of Tr tt† from an
integer are round-off, ≤ 1e−13 in every case here; 1e−9 (as in test_bcc.py) leaves four orders
of margin and is far below any physical reflection.
"""

import json

import numpy as np
import pytest

from tbmto.asa import scf, write_potentials
from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.transport import compute

pytestmark = pytest.mark.slow  # about 60 s of SCF and transport: the physics layer (pytest -m slow)

LENGTHS = (2, 4, 6)
KMESH = (3, 3)
REL = 1e-9

BCC = ("Fe", "Cr", "V", "W")
FCC = ("Cu", "Ag", "Au", "Pd", "Pt")
CASES = ([("bcc", el, "001") for el in BCC] + [("bcc", "W", "110")]
         + [("fcc", el, "001") for el in FCC] + [("fcc", "Pt", "111")])


@pytest.fixture(scope="module")
def lead_metal(tmp_path_factory):
    """``get(element, lattice)`` → (lattice constant in Å, loaded potentials), one SCF per element
    for the whole module (the default lattice constant of ``tbmto.asa.scf``)."""
    root = tmp_path_factory.mktemp("sharvin")
    cache = {}

    def get(element, lattice):
        if (element, lattice) not in cache:
            data = scf(element, lattice, kmesh=8, tol_Ry=1e-4, max_iter=80, progress=False)
            assert data["provenance"]["converged"] is True
            path = root / f"{lattice}-{element}.json"
            write_potentials(data, path)
            a = json.loads(path.read_text())["lattice_constant_angstrom"]
            cache[element, lattice] = (a, load(path))
        return cache[element, lattice]

    return get


@pytest.mark.parametrize("lattice,element,direction", CASES, ids=[f"{lat}-{el}-{d}" for lat, el, d in CASES])
def test_clean_lead_metal_gives_sharvin_conductance(lead_metal, lattice, element, direction):
    """X | X | X with SOC: G = N_modes (per k∥: integer transmission), N_L = N_R > 0, G flat in L."""
    a, pot = lead_metal(element, lattice)
    atoms = build_stack(direction, (1, 1), layers=LENGTHS[-1], lattice_constant=a,
                        composition={element: 1.0}, lead=element, lattice=lattice, lead_layers=4,
                        nested_lengths=LENGTHS)
    res = compute(atoms, pot, kmesh=KMESH, soc=True, progress=False, lengths=LENGTHS)
    assert [r.slab_layers for r in res] == list(LENGTHS)
    n_k = KMESH[0] * KMESH[1]
    n_modes = res[0].n_modes_left
    assert n_modes > 0
    # k∥-averaged channel count: (integer number of channels summed over the mesh) / n_k
    assert n_modes * n_k == pytest.approx(round(n_modes * n_k), abs=REL * n_modes * n_k)
    for r in res:
        assert r.soc and r.n_k == n_k
        assert r.n_modes_left == r.n_modes_right == n_modes
        assert abs(r.G_e2h - n_modes) < REL * n_modes, (r.slab_layers, r.G_e2h, n_modes)
        tk = np.asarray(r.transmission_k)
        assert len(tk) == n_k
        np.testing.assert_allclose(tk, np.round(tk), rtol=0, atol=REL * max(1.0, tk.max()))
        np.testing.assert_allclose(tk, res[0].transmission_k, rtol=0, atol=REL * max(1.0, tk.max()))
    g = np.array([r.G_e2h for r in res])
    assert np.ptp(g) < REL * n_modes, g
