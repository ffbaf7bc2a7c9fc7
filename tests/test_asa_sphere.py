"""Atomic sphere: frozen core, start density, electrostatic zero of the neutral sphere."""

import numpy as np
import pytest

from tbmto.asa.sphere import (initial_valence_density, make_sphere, sphere_charge,
                              sphere_potential)
from tbmto.asa.xc import lsda_xc


@pytest.fixture(scope="module")
def ni():
    return make_sphere("Ni", 2.60247)


def test_core_and_start_density(ni):
    m = ni.mesh
    assert ni.n_core == 18 and ni.n_valence == 10
    assert m.integrate(4 * np.pi * m.r**2 * ni.core_density) == pytest.approx(18.0, abs=1e-8)
    assert 0 < ni.core_spill < 0.01  # the 3p tail outside s is small
    n = initial_valence_density(ni, 0.6)
    np.testing.assert_allclose(sphere_charge(ni, n), [5.3, 4.7], atol=1e-8)
    with pytest.raises(ValueError, match="initial moment"):
        initial_valence_density(ni, 11.0)


def test_neutral_sphere_has_electrostatic_zero_at_its_radius(ni):
    n = initial_valence_density(ni, 0.6)
    v = sphere_potential(ni, n)
    core_s = 0.5 * ni.core_density[-1]
    _, vxu, vxd = lsda_xc(core_s + n[0, -1], core_s + n[1, -1])
    # V(s) is pure exchange–correlation: −2Z/s + 2q/s = 0 for q = Z
    assert v[0, -1] - vxu == pytest.approx(0.0, abs=1e-8)
    assert v[1, -1] - vxd == pytest.approx(0.0, abs=1e-8)
    # a Madelung shift moves the whole potential rigidly; a charged sphere gets −2Δq/s
    v2 = sphere_potential(ni, n, v_madelung=-0.1)
    np.testing.assert_allclose(v2 - v, -0.1, atol=1e-12)
    v3 = sphere_potential(ni, n * 0.99)
    dq = 0.01 * 10.0
    assert (v3[0, -1] - lsda_xc(*(0.5 * ni.core_density[-1] + 0.99 * n[:, -1]))[1]) == \
        pytest.approx(-2 * dq / ni.radius_bohr, abs=1e-8)
