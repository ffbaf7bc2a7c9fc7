"""Exact on-site P⁰(E) from the coupled radial equations with exchange and spin–orbit coupling."""

import numpy as np
import pytest
from scipy.linalg import expm

from tbmto.asa.coupled import exact_onsite_p0, exact_potential_function, spin_orbit_radial
from tbmto.asa.mesh import log_mesh
from tbmto.asa.parameters import phi_and_logderivative, potential_function_exact
from tbmto.asa.radial import C_LIGHT_RY, NONRELATIVISTIC, integrate_outward
from tbmto.asa.sphere import initial_valence_density, make_sphere, sphere_potential
from tbmto.lmto.potential_functions import _PAULI, angular_momentum_matrices, ls_matrix

ENERGIES = (-0.4, 0.0, 0.3)


def _sphere(symbol, radius, moment):
    sph = make_sphere(symbol, radius)
    return sph.mesh, sphere_potential(sph, initial_valence_density(sph, moment))


@pytest.fixture(scope="module")
def ni():
    mesh, v = _sphere("Ni", 2.60, 0.6)
    assert np.max(np.abs(v[0] - v[1])) > 0.01  # really spin split
    return mesh, v


@pytest.fixture(scope="module")
def cu():
    return _sphere("Cu", 2.66893, 0.0)


@pytest.fixture(scope="module")
def pt():
    return _sphere("Pt", 2.90, 0.0)


def _unit(x):
    x = np.asarray(x, float)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _random_dirs(k, seed):
    return _unit(np.random.default_rng(seed).normal(size=(k, 3)))


def _rotate(m, axis, theta):
    """Rodrigues rotation of the rows of m about the unit axis (rows) by θ."""
    axis = np.broadcast_to(axis, m.shape)
    return (m * np.cos(theta) + np.cross(axis, m) * np.sin(theta)
            + axis * np.sum(axis * m, axis=1, keepdims=True) * (1 - np.cos(theta)))


def _scalar_p0(mesh, v, l, e):
    """Scalar P⁰_σ (↑, ↓) from radial.py for the two spin potentials."""
    return np.array([potential_function_exact(phi_and_logderivative(mesh, v[s], l, e)[1], l)[0]
                     for s in range(2)])


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def _ls_block(l):
    idx = [9 * s + L for s in range(2) for L in range(l * l, (l + 1) ** 2)]
    return np.asarray(ls_matrix())[np.ix_(idx, idx)]


# --- ξ(r) and the v_extra hook of radial.py ---------------------------------------------------


def test_spin_orbit_radial_coulomb_closed_form():
    z, e = 29.0, -0.3
    mesh = log_mesh(2.6, 1001, 2e-5 / z)
    v = -2.0 * z / mesh.r
    xi = spin_orbit_radial(mesh, np.stack([v, v]), e)
    mm = 1.0 + (e - v) / C_LIGHT_RY**2
    exact = 2.0 / (mm**2 * C_LIGHT_RY**2) * 2.0 * z / mesh.r**3
    # spline derivative: O(h⁴) inside, O(h³) at the two end points (not-a-knot)
    err = np.abs(xi / exact - 1.0)
    assert err[5:-5].max() < 3e-9 and err.max() < 1e-6
    np.testing.assert_allclose(spin_orbit_radial(mesh, v, e), xi, rtol=0, atol=0)
    # near the nucleus r ξ → c²/Z (finite), instead of the 4Z/(c² r²) of the 1/r dV/dr form;
    # the leading correction is −r c²/Z (from M̄ = 2Z/(c² r) (1 + r c²/(2Z) + …))
    dev = 1.0 - mesh.r[0] * xi[0] * z / C_LIGHT_RY**2
    assert 0.9 < dev / (mesh.r[0] * C_LIGHT_RY**2 / z) < 1.1
    assert np.all(spin_orbit_radial(mesh, v, e, c=NONRELATIVISTIC) == 0.0)


def test_integrate_outward_v_extra(ni):
    mesh, v = ni
    p, q, nodes = integrate_outward(mesh, v[0], [0, 1, 2], 0.1)
    p2, q2, nodes2 = integrate_outward(mesh, v[0], [0, 1, 2], 0.1, v_extra=np.zeros(mesh.n))
    assert np.array_equal(p, p2) and np.array_equal(q, q2) and np.array_equal(nodes, nodes2)
    # non-relativistically a constant extra potential is an energy shift
    pa, qa, _ = integrate_outward(mesh, v[0], 2, 0.1, c=NONRELATIVISTIC,
                                  v_extra=np.full(mesh.n, 0.07))
    pb, qb, _ = integrate_outward(mesh, v[0], 2, 0.03, c=NONRELATIVISTIC)
    # (not bitwise: ½ r (V − E) + ½ r δ against ½ r (V − E + δ) with V ~ 10⁸ Ry at r₀)
    assert _rel(pa, pb) < 1e-10 and _rel(qa, qb) < 1e-10
    # relativistically it is not (it does not enter M)
    pr, _, _ = integrate_outward(mesh, v[0], 2, 0.1, v_extra=np.full(mesh.n, 0.07))
    ps, _, _ = integrate_outward(mesh, v[0], 2, 0.03)
    assert _rel(pr, ps) > 1e-6
    with pytest.raises(ValueError, match="v_extra"):
        integrate_outward(mesh, v[0], 2, 0.1, v_extra=np.zeros(7))


# --- collinear limits -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ni", "cu"])
@pytest.mark.parametrize("l", [0, 1, 2])
def test_no_soc_along_z_is_scalar_solver(which, l, request):
    mesh, v = request.getfixturevalue(which)
    nl = 2 * l + 1
    for e in ENERGIES:
        p0 = exact_potential_function(mesh, v, l, e, [0.0, 0.0, 1.0], soc=False)
        assert p0.shape == (1, 2 * nl, 2 * nl)
        ref = np.diag(np.repeat(_scalar_p0(mesh, v, l, e), nl))
        assert _rel(p0[0], ref) < 1e-9


@pytest.mark.parametrize("l", [0, 1, 2])
def test_no_soc_arbitrary_m_is_rotated_collinear(ni, l):
    mesh, v = ni
    nl = 2 * l + 1
    m = _random_dirs(3, 1)
    for e in ENERGIES:
        pu, pd = _scalar_p0(mesh, v, l, e)
        p0 = exact_potential_function(mesh, v, l, e, m, soc=False)
        msig = np.einsum("ka,ast->kst", m, _PAULI)
        ref = np.kron(0.5 * (pu + pd) * np.eye(2) + 0.5 * (pu - pd) * msig, np.eye(nl)[None])
        assert _rel(p0, ref) < 1e-9


# --- spin–orbit without exchange: j = l ± ½ -------------------------------------------------------


@pytest.mark.parametrize("which", ["cu", "pt"])
@pytest.mark.parametrize("l", [0, 1, 2])
def test_soc_without_exchange_splits_into_j_channels(which, l, request):
    mesh, v = request.getfixturevalue(which)
    assert np.array_equal(v[0], v[1])
    ls = _ls_block(l)
    kappas = [0.5 * l] if l == 0 else [0.5 * l, -0.5 * (l + 1)]
    projectors = []
    for kap in kappas:
        others = [k for k in kappas if k != kap]
        pr = np.eye(ls.shape[0], dtype=complex)
        for k in others:
            pr = pr @ (ls - k * np.eye(ls.shape[0])) / (kap - k)
        projectors.append(pr)
    m = _random_dirs(2, 2)  # without exchange P⁰ must not depend on m
    s = mesh.r[-1]
    for e in ENERGIES:
        xi = spin_orbit_radial(mesh, v, e)
        ref = np.zeros_like(ls)
        pj = []
        for kap, pr in zip(kappas, projectors):
            p, q, _ = integrate_outward(mesh, v[0], l, e, v_extra=kap * xi)
            dlog = 2.0 * (1.0 + (e - v[0, -1]) / C_LIGHT_RY**2) * s * q[0, -1] / p[0, -1]
            pj.append(float(potential_function_exact(dlog, l)))
            ref = ref + pj[-1] * pr
        p0 = exact_potential_function(mesh, v, l, e, m)
        # eigenvalues 2l+2-fold p_{l+½} and 2l-fold p_{l−½}; eigenvectors those of L·S.
        # (Agreement ~3e-9 for Pt p_{1/2}: the reference starts with the scalar γ, which errs
        # by ~(r₀/r_c)^{2γ_κ}; the matrix solver starts in the j channels. Cu: ~1e-11.)
        assert _rel(p0, np.broadcast_to(ref, p0.shape)) < 1e-8
        eig = np.linalg.eigvalsh(p0[0])
        want = np.sort(np.repeat(pj, [2 * l + 2, 2 * l][: len(pj)]))
        assert _rel(eig, want) < 1e-8
        if l > 0:  # and the splitting is real (spin–orbit does something)
            assert abs(pj[0] - pj[1]) > 1e-4 * abs(pj[0])


# --- exchange and spin–orbit together -----------------------------------------------------------


@pytest.mark.parametrize("l", [1, 2])
def test_hermitian_with_exchange_and_soc(ni, l):
    mesh, v = ni
    m = _random_dirs(4, 3)
    for e in ENERGIES:
        # the raw D = 2s M^½ Q P⁻¹ M^½ is Hermitian to 1e-10 (else RuntimeError) before
        # it is symmetrised (the RK4 Wronskian drift is ~1e-12 here and falls as h⁵)
        p0 = exact_potential_function(mesh, v, l, e, m, herm_tol=1e-10)
        assert np.max(np.abs(p0 - p0.conj().swapaxes(1, 2))) == 0.0
        # exchange and SOC both act: neither the collinear nor the j = l ± ½ structure holds
        nl = 2 * l + 1
        pu, pd = _scalar_p0(mesh, v, l, e)
        msig = np.einsum("ka,ast->kst", m, _PAULI)
        collinear = np.kron(0.5 * (pu + pd) * np.eye(2) + 0.5 * (pu - pd) * msig,
                            np.eye(nl)[None])
        assert _rel(p0, collinear) > 1e-4


def test_nonhermitian_d_is_detected(ni):
    mesh, v = ni
    with pytest.raises(RuntimeError, match="Hermitian"):
        exact_potential_function(mesh, v, 2, 0.0, _random_dirs(2, 4), herm_tol=1e-17)


@pytest.mark.parametrize("l", [0, 1, 2])
def test_time_reversal(ni, l):
    """Θ = iσ_y K: Θ σ Θ⁻¹ = −σ, Θ L Θ⁻¹ = −L (L purely imaginary in real harmonics), so
    L·S is even and m·σ odd: H(−m) = Θ H(m) Θ⁻¹, and the same holds for the regular solutions
    (the start is invariant), hence P⁰(−m) = U_T P⁰(m)* U_T†, U_T = iσ_y ⊗ 1."""
    mesh, v = ni
    m = _random_dirs(3, 5)
    ut = np.kron(1j * _PAULI[1], np.eye(2 * l + 1))
    for e in ENERGIES:
        p_plus = exact_potential_function(mesh, v, l, e, m)
        p_minus = exact_potential_function(mesh, v, l, e, -m)
        assert _rel(p_minus, ut @ p_plus.conj() @ ut.conj().T) < 1e-10
        np.testing.assert_allclose(np.linalg.eigvalsh(p_minus), np.linalg.eigvalsh(p_plus),
                                   rtol=0, atol=1e-10 * np.max(np.abs(p_plus)))
        if l > 0:  # not trivially m-independent
            assert _rel(p_minus, p_plus) > 1e-4


@pytest.mark.parametrize("l", [1, 2])
def test_rotation_covariance(ni, l):
    """A rotation of the whole problem (spin and orbitals, J = L + S) maps P⁰(m) to P⁰(R m)."""
    mesh, v = ni
    lmat = np.asarray(angular_momentum_matrices())[:, l * l:(l + 1) ** 2, l * l:(l + 1) ** 2]
    jmat = [np.kron(0.5 * _PAULI[a], np.eye(2 * l + 1)) + np.kron(np.eye(2), lmat[a])
            for a in range(3)]
    n_axis = _unit([0.3, -0.5, 0.8])
    phi = 0.7
    u = expm(-1j * phi * sum(n_axis[a] * jmat[a] for a in range(3)))
    m = _random_dirs(2, 6)
    rm = _rotate(m, n_axis, phi)
    p0 = exact_potential_function(mesh, v, l, 0.0, m)
    p0r = exact_potential_function(mesh, v, l, 0.0, rm)
    assert _rel(p0r, u @ p0 @ u.conj().T) < 1e-10
    # rotating the spin alone is not a symmetry with SOC
    us = expm(-1j * phi * sum(n_axis[a] * np.kron(0.5 * _PAULI[a], np.eye(2 * l + 1))
                              for a in range(3)))
    assert _rel(p0r, us @ p0 @ us.conj().T) > 1e-4


@pytest.mark.parametrize("l", [1, 2])
def test_theta_derivative_matches_finite_difference(ni, l):
    mesh, v = ni
    m = _random_dirs(3, 7)
    axes = _unit(np.cross(m, _random_dirs(3, 8)))      # ⊥ m
    axes[2] = _unit([0.2, 0.9, -0.4])                  # a generic axis, not ⊥ m
    step = 1e-4
    for e in (-0.4, 0.0, 0.3):
        p0, dp0 = exact_potential_function(mesh, v, l, e, m, axis=axes)
        pp = exact_potential_function(mesh, v, l, e, _rotate(m, axes, step))
        pm = exact_potential_function(mesh, v, l, e, _rotate(m, axes, -step))
        fd = (pp - pm) / (2 * step)
        # per direction; the central-difference truncation error is δ²/6 ≈ 1.7e-9 here
        for i in range(3):
            assert _rel(dp0[i], fd[i]) < 2e-8
        assert _rel(p0, exact_potential_function(mesh, v, l, e, m)) < 1e-13
        assert np.max(np.abs(dp0 - dp0.conj().swapaxes(1, 2))) == 0.0
    # no exchange: P⁰ does not depend on m
    v0 = np.stack([v.mean(axis=0)] * 2)
    _, d0 = exact_potential_function(mesh, v0, l, 0.0, m, axis=axes)
    assert np.max(np.abs(d0)) < 1e-12 * np.max(np.abs(fd))


# --- the 18 × 18 assembly ------------------------------------------------------------------------


def test_onsite_p0_blocks(ni):
    mesh, v = ni
    m = _random_dirs(4, 9)
    axis = _unit([1.0, 1.0, 0.0])
    p0, dp0 = exact_onsite_p0(mesh, v, 0.0, m, axis=axis)
    assert p0.shape == dp0.shape == (4, 18, 18)
    filled = np.zeros((18, 18), bool)
    for l in range(3):
        idx = np.array([9 * s + L for s in range(2) for L in range(l * l, (l + 1) ** 2)])
        blk, dblk = exact_potential_function(mesh, v, l, 0.0, m, axis=axis)
        assert np.array_equal(p0[:, idx[:, None], idx], blk)
        assert np.array_equal(dp0[:, idx[:, None], idx], dblk)
        assert _rel(blk, exact_potential_function(mesh, v, l, 0.0, m)) < 1e-13
        filled[np.ix_(idx, idx)] = True
    assert np.all(p0[:, ~filled] == 0) and np.all(dp0[:, ~filled] == 0)
    assert _rel(exact_onsite_p0(mesh, v, 0.0, m), p0) < 1e-13
    # with SOC, P⁰ commutes with L·S only without exchange
    ls = np.asarray(ls_matrix())
    assert np.max(np.abs(p0 @ ls - ls @ p0)) > 1e-3


def test_bad_arguments(ni):
    mesh, v = ni
    z = [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="l must"):
        exact_potential_function(mesh, v, 3, 0.0, z)
    with pytest.raises(ValueError, match="l must"):
        exact_potential_function(mesh, v, 1.0, 0.0, z)
    with pytest.raises(ValueError, match="unit"):
        exact_potential_function(mesh, v, 1, 0.0, [0.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="m must"):
        exact_onsite_p0(mesh, v, 0.0, [0.0, 1.0])
    with pytest.raises(ValueError, match="v must"):
        exact_onsite_p0(mesh, v[0], 0.0, z)
    with pytest.raises(ValueError, match="v must"):
        exact_onsite_p0(mesh, np.where(np.arange(mesh.n) == 5, np.nan, v), 0.0, z)
    for e in (np.nan, np.inf, 0.1 + 0.01j, [0.0, 0.1]):
        with pytest.raises(ValueError, match="energy"):
            exact_onsite_p0(mesh, v, e, z)
    with pytest.raises(ValueError, match="axis"):
        exact_onsite_p0(mesh, v, 0.0, _random_dirs(2, 0), axis=_random_dirs(3, 1))
    with pytest.raises(ValueError, match="unit"):
        exact_onsite_p0(mesh, v, 0.0, z, axis=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="c must"):
        exact_onsite_p0(mesh, v, 0.0, z, c=-1.0)
    with pytest.raises(ValueError, match="v must"):
        spin_orbit_radial(mesh, v[:, :10], 0.0)
