"""Potential parameters at the Fermi level from the stored spherical potentials.

The three-parameter form P⁰(E) = (E − C)/(Δ + γ(E − C)) built at E_ν reproduces the exact
scalar-relativistic potential function 2(2l+1)(D+l+1)/(D−l) at E_ν (Andersen & Jepsen, PRL 53,
2571 (1984)) and deviates from it elsewhere by O((E − E_ν)³): the Möbius form is correct
through second order (measured exponent 3.0 ± 0.1 for s, p, d of Cu, Ni, Fe).
"""

import json

import numpy as np
import pytest

from tbmto.asa.parameters import phi_and_logderivative, potential_function_exact, potential_parameters
from tbmto.potentials import load


def _p0(C, delta, gamma, e):
    return (e - C) / (delta + gamma * (e - C))


@pytest.mark.parametrize("element", ["Cu", "Ni", "Fe"])
def test_fermi_parameters_give_the_exact_potential_function_at_ef(scf_files, element):
    sp = load(scf_files[element]).species[element]
    rad = sp.radial
    assert sp.linearisation == "fermi" and np.all(sp.e_nu == 0.0)
    for s in range(2):
        for l in range(3):
            _, dlog = phi_and_logderivative(rad.mesh, rad.v[s], l, [0.0])
            exact = potential_function_exact(dlog, l)[0]
            par = _p0(sp.C[s, l], sp.sqrt_delta[s, l] ** 2, sp.gamma[s, l], 0.0)
            assert par == pytest.approx(exact, rel=1e-8, abs=1e-10), (element, s, l)


@pytest.mark.parametrize("element", ["Ni", "Fe"])
def test_band_centre_error_grows_as_the_cube_of_the_distance(scf_files, element):
    sp = load(scf_files[element]).species[element]
    rad = sp.radial
    for s in range(2):
        for l in (1, 2):
            _, dlog = phi_and_logderivative(rad.mesh, rad.v[s], l, [0.0])
            exact = potential_function_exact(dlog, l)[0]
            errs = []
            for d in (0.01, 0.02, 0.04):
                pp = potential_parameters(rad.mesh, rad.v, np.full((2, 3), d))
                errs.append(abs(_p0(pp.C[s, l], pp.delta[s, l], pp.gamma[s, l], 0.0) - exact))
            # doubling E_F − E_ν multiplies the error by ≈ 8: P is right through 2nd order
            order = np.log2(np.array(errs[1:]) / np.array(errs[:-1]))
            np.testing.assert_allclose(order, 3.0, atol=0.2, err_msg=f"{element} spin {s} l {l}")


def test_stored_parameters_are_those_of_the_stored_potential(scf_files):
    data = json.loads(scf_files["Ni"].read_text())
    sp = load(scf_files["Ni"], linearisation="band_centre").species["Ni"]
    rad = sp.radial
    pp = potential_parameters(rad.mesh, rad.v, sp.e_nu)
    # stored C is absolute, the loaded one relative to E_F; the potential is shifted alike
    np.testing.assert_allclose(pp.C, sp.C, atol=1e-12)
    np.testing.assert_allclose(pp.sqrt_delta, sp.sqrt_delta, atol=1e-12)
    np.testing.assert_allclose(pp.gamma, sp.gamma, atol=1e-12)
    np.testing.assert_array_equal(sp.xi, data["species"]["Ni"]["xi_Ry"])


def test_fermi_level_spin_orbit_is_larger_for_ni_d(scf_files):
    """Ni d states at E_F lie above the band centre of gravity, where φ_d is more contracted:
    ξ_d(E_F) > ξ_d(band centre) (the measured +20 % of the permalloy potentials)."""
    fermi = load(scf_files["Ni"]).species["Ni"]
    band = load(scf_files["Ni"], linearisation="band_centre").species["Ni"]
    assert np.all(fermi.xi_spin[:, 2] > 1.1 * band.xi_spin[:, 2])
    assert fermi.xi[2] == pytest.approx(fermi.xi_spin[:, 2].mean())


def test_old_format_asks_for_regeneration(tmp_path, scf_files):
    data = json.loads(scf_files["Cu"].read_text())
    data["format"] = "tbmto-potentials/1"
    p = tmp_path / "old.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="regenerate it with `tbmto scf`"):
        load(p)


def test_parameter_only_file_needs_band_centre():
    from pathlib import Path

    cu = Path(__file__).parent / "data" / "cu_rslmto.json"
    with pytest.raises(ValueError, match="band_centre"):
        load(cu)
    with pytest.raises(ValueError, match="linearisation must be one of"):
        load(cu, linearisation="centre")
    assert load(cu, linearisation="band_centre").species["Cu"].radial is None
