"""Nested lengths: one sweep of the longest stack against independent truncated stacks.

``compute(atoms, ..., lengths=(L₁, …, Lₙ))`` must reproduce, for every L_i, ``compute`` on
``truncate(atoms, L_i)`` (the first L_i slab layers, the same right buffer and lead) to 1e−10
relative in G, the damping tensor, the channel counts and the moment — for alloy and frozen
thermal disorder (whose S^α next to the cut sees the undisplaced buffer), with and without SOC,
[001] and [111], with the lead-mode cache on and off, and in the factor-recomputation mode.

The magnetic species is the fictitious spin-split Cu of ``conftest._spin_split_cu`` (test data,
not a material); the parameter forms of the SOC term are used (parameter-only files).
"""

import numpy as np
import pytest

from tbmto.structure import build_stack, truncate
from tbmto.transport import compute
from tbmto.wfm import LeadModeCache

A = 3.614
REL = 1e-10


def _nested(direction, delta, lengths, supercell=(1, 1), m=(0.3, 0.0, 1.0), comp=None, config=0):
    return build_stack(direction, supercell, layers=lengths[-1], lattice_constant=A,
                       composition=comp or {"Ni": 0.5, "Cu": 0.5}, delta=delta, seed=5, config=config,
                       nested_lengths=lengths, magnetization=m, lead_layers=4)


def _close(a, b, what):
    assert abs(a - b) <= REL * max(abs(a), abs(b), 1e-300) or abs(a - b) < 1e-14, f"{what}: {a!r} vs {b!r}"


def _assert_equal_results(nested, ref):
    for key in ("G_e2h", "n_modes_left", "n_modes_right", "moment_muB", "damping_T", "damping_T_yy"):
        a, b = getattr(nested, key), getattr(ref, key)
        if np.isnan(b):
            assert np.isnan(a), key
        else:
            _close(a, b, key)
    if np.isfinite(ref.damping_T_xy):
        assert abs(nested.damping_T_xy - ref.damping_T_xy) <= REL * ref.damping_T
    assert nested.n_atoms == ref.n_atoms and nested.n_slab_atoms == ref.n_slab_atoms
    assert nested.n_principal_layers == ref.n_principal_layers
    np.testing.assert_allclose(nested.transmission_k, ref.transmission_k, rtol=REL, atol=1e-14)
    np.testing.assert_allclose(nested.noise_k, ref.noise_k, rtol=REL, atol=1e-12)


CASES = [
    ("001", 0.0, True, False),
    ("001", 0.08, False, True),
    ("111", 0.08, True, True),
    ("111", 0.0, False, False),
]


@pytest.mark.parametrize("direction,delta,soc,cache", CASES)
def test_nested_equals_truncated(pot_mag, tmp_path, direction, delta, soc, cache):
    lengths = (3, 10, 17)  # odd/even cuts; the longer ones branch through a window
    atoms = _nested(direction, delta, lengths)
    kw = dict(kmesh=(2, 2), soc=soc, damping=True, progress=False, soc_form="orthogonal")
    lc = LeadModeCache(tmp_path / "leads") if cache else None
    res = compute(atoms, pot_mag, lengths=lengths, lead_cache=lc, **kw)
    assert [r.slab_layers for r in res] == list(lengths)
    assert all(r.nested_lengths == list(lengths) for r in res)
    for L, r in zip(lengths, res):
        ref = compute(truncate(atoms, L), pot_mag, damping_axis=r.damping_axis, **kw)
        np.testing.assert_allclose(ref.damping_axes, r.damping_axes, rtol=0, atol=1e-12)
        _assert_equal_results(r, ref)
    if cache:  # one left lead and at most two right-lead variants (odd/even cut) per k
        assert res[0].lead_cache["lookups"] <= 3 * 4


@pytest.mark.parametrize("form", ["screened", "exact"])
def test_nested_self_consistent_species(scf_files, form):
    """Self-consistent Ni and Cu (E_F linearisation): the exact single-site form, and the screened
    form, whose θ also enters the couplings (dv) — across the trunk → tail cut too."""
    from tbmto.potentials import load

    pot = load(scf_files["Cu"], scf_files["Ni"])
    lengths = (4, 11)
    atoms = build_stack("001", (1, 1), layers=11, lattice_constant=3.524, composition={"Ni": 0.7, "Cu": 0.3},
                        delta=0.08, seed=2, nested_lengths=lengths, magnetization=(0.3, 0.0, 1.0), lead_layers=4)
    kw = dict(kmesh=(2, 1), soc=True, damping=True, progress=False, soc_form=form)
    res = compute(atoms, pot, lengths=lengths, **kw)
    for L, r in zip(lengths, res):
        _assert_equal_results(r, compute(truncate(atoms, L), pot, **kw))


def test_nested_without_damping_and_with_recomputation(pot_mag):
    lengths = (2, 9, 14)
    atoms = _nested("001", 0.05, lengths)
    kw = dict(kmesh=(2, 2), soc=True, progress=False, soc_form="orthogonal")
    g_only = compute(atoms, pot_mag, lengths=lengths, **kw)
    full = compute(atoms, pot_mag, lengths=lengths, damping=True, **kw)
    tiny = compute(atoms, pot_mag, lengths=lengths, damping=True, memory_limit_gb=1e-9, **kw)
    for a, b, c in zip(g_only, full, tiny):
        assert np.isnan(a.damping_T) and a.damping_axes is None
        _close(a.G_e2h, b.G_e2h, "G with/without damping")
        for key in ("G_e2h", "damping_T", "damping_T_yy", "damping_T_xy"):
            _close(getattr(c, key), getattr(b, key), f"{key} recomputed factors")


def test_damping_tensor_symmetry_of_a_fourfold_slab(pot_mag):
    """m ∥ [001] on a clean (ordered) fcc(001) slab: the C₄ symmetry of structure and k mesh
    makes G̃_xx = G̃_yy and G̃_xy = 0; with m tilted the tensor stays positive semi-definite."""
    atoms = build_stack("001", (1, 1), layers=6, lattice_constant=A, composition={"Ni": 1.0},
                        magnetization=(0, 0, 1), lead_layers=4)
    r = compute(atoms, pot_mag, kmesh=(4, 4), soc=True, damping=True, progress=False, soc_form="orthogonal")
    assert r.damping_T > 1e-3
    assert abs(r.damping_T - r.damping_T_yy) < 1e-9 * r.damping_T
    assert abs(r.damping_T_xy) < 1e-9 * r.damping_T
    tilted = _nested("001", 0.05, (6,), m=(0.4, 0.3, 0.8))
    t = compute(tilted, pot_mag, kmesh=(2, 2), soc=True, damping=True, progress=False, soc_form="orthogonal")
    tens = np.array([[t.damping_T, t.damping_T_xy], [t.damping_T_xy, t.damping_T_yy]])
    assert np.all(np.linalg.eigvalsh(tens) >= -1e-12 * t.damping_T)
    e1, e2 = np.array(t.damping_axes)
    assert abs(e1 @ e2) < 1e-12 and abs(e1 @ tilted.arrays["magmom_dir"][0]) < 1e-12


def test_lengths_validation(pot_mag):
    atoms = _nested("001", 0.0, (3, 6))
    for bad in ((6, 3), (0, 6), (3, 7), (), (3.5, 6), "36"):
        with pytest.raises(ValueError, match="lengths must be"):
            compute(atoms, pot_mag, lengths=bad, kmesh=(1, 1), progress=False, soc_form="orthogonal")
    with pytest.raises(ValueError, match="memory_limit_gb"):
        compute(atoms, pot_mag, lengths=(3, 6), memory_limit_gb=-1, kmesh=(1, 1), progress=False,
                soc_form="orthogonal")
