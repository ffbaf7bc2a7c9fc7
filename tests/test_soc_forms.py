"""The three on-site spin–orbit forms (orthogonal, screened, exact) in transport and in bulk.

Self-consistent fcc Cu and Ni at 3.524 Å (``scf_files``), linearised at E_F.
"""

import math

import numpy as np
import pytest
from conftest import central_difference_damping

from tbmto.bulk import LINES, BulkSecular, fermi_crossings
from tbmto.layers import build_layered_system, kmesh
from tbmto.onsite import SOC_FORMS, onsite_terms
from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.model import MTOModel
from tbmto.transport import compute
from tbmto.wfm import smatrix

A = 3.524


@pytest.fixture(scope="module")
def pot(scf_files):
    return load(scf_files["Cu"], scf_files["Ni"])


def _stack(layers=3, supercell=(2, 1), comp=None, delta=0.08, m=(0.0, 0.0, 1.0)):
    return build_stack(direction="001", supercell=supercell, layers=layers, lattice_constant=A,
                       composition=comp or {"Ni": 0.5, "Cu": 0.5}, lead="Cu", delta=delta, seed=3,
                       magnetization=m)


@pytest.mark.parametrize("form", SOC_FORMS)
def test_damping_trace_matches_finite_difference(pot, form):
    """Analytic Re Tr ∂S†∂S against a central difference of S under a rigid rotation of the slab
    moments, for every form (the screened form's θ also enters the inter-layer couplings)."""
    atoms = _stack(m=(0.6, 0.0, 0.8))
    res = compute(atoms, pot, kmesh=(2, 2), damping=True, progress=False, soc_form=form)
    axis = np.array(res.damping_axis)
    system = build_layered_system(atoms)
    slab = atoms.arrays["region"] == 1

    def s_of(theta, k):
        m = atoms.arrays["magmom_dir"].copy()
        c, s = math.cos(theta), math.sin(theta)
        rot = c * m + s * np.cross(axis, m) + (1 - c) * np.outer(m @ axis, axis)
        m[slab] = rot[slab]
        turned = atoms.copy()
        turned.arrays["magmom_dir"] = m
        b = MTOModel.build(turned, pot, 0.0, soc=True, soc_form=form, layered=system).blocks(k)
        return smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right).S

    t_fd = central_difference_damping(s_of, kmesh(system.cell2d, (2, 2)))
    assert res.damping_T > 1e-3 and res.soc_form == form and res.linearisation == "fermi"
    assert res.damping_T == pytest.approx(t_fd, rel=1e-5)


def test_no_soc_results_identical_across_forms(pot):
    atoms = _stack()
    runs = [compute(atoms, pot, kmesh=(2, 2), damping=True, progress=False, soc=False, soc_form=f)
            for f in SOC_FORMS]
    for r in runs[1:]:
        assert r.transmission_k == runs[0].transmission_k
        assert r.damping_k == runs[0].damping_k


def test_forms_agree_to_first_order_in_xi(pot):
    """The forms differ at second order in ξ: G(ξ·s) of the parameter forms approaches that of
    the exact form faster than the SOC effect itself vanishes (compared at full ξ)."""
    atoms = _stack(delta=0.0)
    g = {f: compute(atoms, pot, kmesh=(2, 2), progress=False, soc_form=f).G_e2h for f in SOC_FORMS}
    g0 = compute(atoms, pot, kmesh=(2, 2), progress=False, soc=False).G_e2h
    soc_effect = abs(g["exact"] - g0)
    assert soc_effect > 1e-4
    for f in ("orthogonal", "screened"):
        assert abs(g[f] - g["exact"]) < 0.3 * soc_effect, (f, g, g0)


def test_exact_form_is_the_parameter_form_without_soc(pot):
    m = np.array([[0.3, 0.4, math.sqrt(0.75)]])
    ex = onsite_terms(pot, ["Ni"], m, 0.0, soc=True, soc_form="exact")
    from tbmto.onsite import exact_onsite_palpha
    from tbmto.asa.coupled import exact_onsite_p0

    sp = pot.species["Ni"]
    p0 = exact_onsite_p0(sp.radial.mesh, sp.radial.v, 0.0, m, soc=False)
    ref = onsite_terms(pot, ["Ni"], m, 0.0, soc=False).p
    a18 = np.tile(np.array([0.3485, 0.05303, 0.010714])[[0, 1, 1, 1, 2, 2, 2, 2, 2]], 2)
    pa = p0 @ np.linalg.inv(np.eye(18) - a18[:, None] * p0)
    np.testing.assert_allclose(pa, ref, rtol=0, atol=1e-7 * np.abs(ref).max())
    assert np.abs(ex.p - ref).max() > 1e-3  # SOC does enter the exact form
    pa2, _ = exact_onsite_palpha(pot, "Ni", 0.0, m)
    np.testing.assert_array_equal(pa2, ex.p)


@pytest.mark.parametrize("form", ["orthogonal", "screened"])
def test_bulk_fermi_surface_close_to_exact(pot, form):
    """Fermi-surface crossings of bulk Ni along Γ–X, Γ–L, Γ–K: same count as the exact form and
    within 5e−3 (2π/a) of it; without SOC all forms are the same."""
    for name, end in LINES["fcc"].items():
        ref = [c.k for c in fermi_crossings(BulkSecular(pot, "Ni", "fcc", soc_form="exact"), end, 200)]
        got = [c.k for c in fermi_crossings(BulkSecular(pot, "Ni", "fcc", soc_form=form), end, 200)]
        assert len(got) == len(ref) > 0, name
        assert np.max(np.abs(np.array(got) - ref)) < 5e-3, (name, got, ref)
        nosoc = [c.k for c in fermi_crossings(BulkSecular(pot, "Ni", "fcc", soc=False, soc_form=form), end, 200)]
        nosoc_exact = [c.k for c in fermi_crossings(BulkSecular(pot, "Ni", "fcc", soc=False, soc_form="exact"), end, 200)]
        assert nosoc == nosoc_exact


def test_cu_sharvin_and_kf_unchanged_by_the_form(pot):
    """Clean Cu: the forms move k_F along Γ–X by < 2e−4 (2π/a); SOC in Cu is a small effect."""
    kf = {f: fermi_crossings(BulkSecular(pot, "Cu", "fcc", soc_form=f), LINES["fcc"]["G-X"], 100)[0].k
          for f in SOC_FORMS}
    assert max(abs(kf[f] - kf["exact"]) for f in SOC_FORMS) < 2e-4
    assert 0.84 < kf["exact"] < 0.88


def test_bad_form_and_grid(pot):
    atoms = _stack()
    with pytest.raises(ValueError, match="soc_form must be one of"):
        compute(atoms, pot, kmesh=(1, 1), progress=False, soc_form="relativistic")
    with pytest.raises(ValueError, match="kgrid must be one of"):
        compute(atoms, pot, kmesh=(1, 1), progress=False, kgrid="centred")
