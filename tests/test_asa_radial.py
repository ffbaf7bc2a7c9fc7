"""Scalar-relativistic radial solver: hydrogen-like limits and normalisation."""

import numpy as np
import pytest

from tbmto.asa.mesh import log_mesh
from tbmto.asa.radial import C_LIGHT_RY, NONRELATIVISTIC, bound_states, norm_density


@pytest.fixture(scope="module")
def mesh():
    return log_mesh(60.0, 1400, 1e-6)


@pytest.mark.parametrize("z", [1, 29])
def test_hydrogenic_nonrelativistic_eigenvalues(mesh, z):
    n = np.array([1, 2, 2, 3, 3, 3, 4])
    l = np.array([0, 0, 1, 0, 1, 2, 3])
    bs = bound_states(mesh, -2.0 * z / mesh.r, n, l, c=NONRELATIVISTIC)
    assert bs.converged.all()
    np.testing.assert_allclose(bs.energy, -(z**2) / n**2.0, rtol=2e-5)
    # normalised, and states of equal l orthogonal
    norms = mesh.integrate(bs.p**2)
    np.testing.assert_allclose(norms, 1.0, atol=1e-8)
    assert abs(mesh.integrate(bs.p[0] * bs.p[1])) < 1e-6


def test_scalar_relativistic_shift_close_to_dirac(mesh):
    z = 29
    bs = bound_states(mesh, -2.0 * z / mesh.r, [1, 2], [0, 0])
    assert bs.converged.all()
    alpha = 2.0 / C_LIGHT_RY
    mc2 = C_LIGHT_RY**2 / 2.0  # Ry (m = 1/2)
    # Dirac 1s½: E = mc² (√(1 − (Zα)²) − 1)
    e_dirac = mc2 * (np.sqrt(1 - (z * alpha) ** 2) - 1)
    shift_sr = bs.energy[0] - (-(z**2))
    shift_dirac = e_dirac - (-(z**2))
    assert shift_sr < 0
    assert shift_sr == pytest.approx(shift_dirac, rel=0.03)
    # small-component normalisation is included
    assert mesh.integrate(norm_density(bs.p, bs.q)) == pytest.approx([1.0, 1.0], abs=1e-8)
