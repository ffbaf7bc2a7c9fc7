"""bcc stacks ([001] and [110]): geometry, nesting, and the Sharvin limit of a clean bcc Fe stack.

The self-consistent bcc Fe potentials (a = 2.87 Å) come from the session fixture ``scf_files``.
"""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from tbmto.layers import build_layered_system
from tbmto.materials import wigner_seitz_radius
from tbmto.structure import build_stack, truncate
from tbmto.transport import compute

A_FE = 2.87


def _fe(direction, layers, supercell=(1, 1), **kw):
    return build_stack(direction, supercell, layers=layers, lattice_constant=A_FE, composition={"Fe": 1.0},
                       lead="Fe", lattice="bcc", lead_layers=4, **kw)


@pytest.mark.parametrize("direction,spacing", [("001", A_FE / 2), ("110", A_FE / np.sqrt(2))])
def test_bcc_geometry(direction, spacing):
    """Eight nearest neighbours at √3 a/2 inside the slab, volume a³/2 per atom, layer spacing."""
    atoms = _fe(direction, 6, supercell=(2, 2))
    assert atoms.info["lattice"] == "bcc"
    assert atoms.info["layer_spacing_angstrom"] == pytest.approx(spacing)
    i, d = neighbor_list("id", atoms, 0.95 * A_FE)
    inner = np.flatnonzero(np.abs(atoms.arrays["layer"] - 2) < 1)
    assert np.allclose(d, np.sqrt(3) / 2 * A_FE)
    assert np.all(np.bincount(i, minlength=len(atoms))[inner] == 8)
    cell2d = np.asarray(atoms.info["cell2d"])
    area_per_atom = abs(np.cross(cell2d[0], cell2d[1])[2]) / len(inner)  # one atomic layer
    assert area_per_atom * spacing == pytest.approx(A_FE**3 / 2)
    assert wigner_seitz_radius(A_FE, "bcc") == pytest.approx((3 * A_FE**3 / 2 / (4 * np.pi)) ** (1 / 3))


def test_bcc_rejects_fcc_directions():
    with pytest.raises(ValueError, match=r"direction must be one of \('001', '110'\) for bcc"):
        _fe("111", 4)
    with pytest.raises(ValueError, match="lattice must be one of"):
        build_stack("001", (1, 1), layers=2, lattice_constant=A_FE, lattice="hcp")


@pytest.mark.parametrize("direction", ["001", "110"])
def test_bcc_nested_prefix_is_the_shorter_stack(direction):
    comp = {"Fe": 0.75, "Co": 0.25}
    long = build_stack(direction, (2, 2), layers=9, lattice_constant=A_FE, composition=comp, lead="Fe",
                       lattice="bcc", delta=0.05, nested_lengths=(4, 9))
    short = build_stack(direction, (2, 2), layers=4, lattice_constant=A_FE, composition=comp, lead="Fe",
                        lattice="bcc", delta=0.05, nested_lengths=(4,))
    cut = truncate(long, 4)
    assert cut.get_chemical_symbols() == short.get_chemical_symbols()
    np.testing.assert_allclose(cut.positions, short.positions, atol=1e-12)


@pytest.mark.parametrize("direction", ["001", "110"])
def test_clean_bcc_fe_stack_is_ballistic(scf_files, direction):
    """Fe | Fe | Fe with SOC: every channel transmits (T = N at every k∥, G flat in L), with the
    bcc Wigner–Seitz radius for S^α; nested lengths agree with the single-length runs."""
    from tbmto.potentials import load

    pot = load(scf_files["Fe"])
    atoms = _fe(direction, 5, nested_lengths=(2, 5))
    assert build_layered_system(atoms).n_pl_layers >= 1
    kw = dict(kmesh=(3, 3), soc=True, progress=False)
    res = compute(atoms, pot, lengths=(2, 5), **kw)
    for r in res:
        assert r.wigner_seitz_radius_angstrom == pytest.approx(wigner_seitz_radius(A_FE, "bcc"))
        assert r.n_modes_left == r.n_modes_right > 0
        assert r.G_e2h == pytest.approx(r.n_modes_left, rel=1e-9)
    assert res[0].G_e2h == pytest.approx(res[1].G_e2h, rel=1e-9)
    single = compute(truncate(atoms, 2), pot, **kw)
    assert single.G_e2h == pytest.approx(res[0].G_e2h, rel=1e-10)
