"""Lead Bloch modes: dispersion, flux normalisation, current orthogonality, singular hopping."""

import numpy as np
import pytest

from tbmto.wfm import lead_modes
from tbmto.wfm.leads import current_form
from tbmto.wfm.models import chain_blocks, fold_cells, spinful_strip_blocks, strip_blocks


def _x(m, u, lam):
    """Stack (ψ_{j-1}; ψ_j) = (u; λu) for current-form evaluation."""
    return np.vstack([u, u * lam[None, :]])


@pytest.mark.parametrize("energy", [-1.7, -0.4, 0.9, 1.95])
def test_chain_velocity_is_2t_sin_k(energy):
    h, v = chain_blocks(t=1.3)
    m = lead_modes(h, v, energy)
    k = np.arccos(-energy / (2 * 1.3))
    assert m.n_modes == 1
    np.testing.assert_allclose(m.k_right, [k], atol=1e-10)
    np.testing.assert_allclose(m.k_left, [-k], atol=1e-10)
    np.testing.assert_allclose(m.vel_right, [2 * 1.3 * np.sin(k)], rtol=1e-10)
    np.testing.assert_allclose(m.vel_left, [-2 * 1.3 * np.sin(k)], rtol=1e-10)


def test_chain_outside_band_has_no_modes_and_decaying_self_energy():
    h, v = chain_blocks()
    m = lead_modes(h, v, 2.5)
    assert m.n_modes == 0
    # right-decaying solution λ with λ + 1/λ = -E (t = 1), |λ| < 1; Σ = v F = -λ
    lam = np.roots([1.0, 2.5, 1.0])
    lam_in = lam[np.abs(lam) < 1][0]
    np.testing.assert_allclose(m.self_energy_right, [[-lam_in]], rtol=1e-12)
    np.testing.assert_allclose(m.self_energy_left, [[-lam_in]], rtol=1e-12)


@pytest.mark.parametrize("builder", ["strip", "folded", "spinful"])
def test_modes_solve_lead_equation_and_are_current_orthonormal(builder):
    if builder == "strip":
        h, v = strip_blocks(7)
    elif builder == "folded":
        h, v = fold_cells(*strip_blocks(5), p=3)
        assert np.linalg.matrix_rank(v) == 5  # singular inter-cell hopping (rank 5 of 15)
    else:
        h, v = spinful_strip_blocks(4, rashba=0.4, zeeman=(0.3, -0.2, 0.5))
    e = 0.37
    m = lead_modes(h, v, e)
    assert m.n_modes > 0
    for u, lam in ((m.u_right, m.lam_right), (m.u_left, m.lam_left)):
        np.testing.assert_allclose(np.abs(lam), 1.0, atol=1e-12)
        res = (e * np.eye(len(h)) - h) @ u - (v @ u) * lam - (v.conj().T @ u) / lam
        assert np.max(np.abs(res)) < 1e-9
    x = np.hstack([_x(m, m.u_right, m.lam_right), _x(m, m.u_left, m.lam_left)])
    j = current_form(v, x, x)
    expected = np.diag(np.r_[np.ones(m.n_modes), -np.ones(m.n_modes)])
    np.testing.assert_allclose(j, expected, atol=1e-9)


def _decimation_self_energies(h, v, z, iters=80):
    """Σ₊ = v g₊ v† and Σ₋ = v† g₋ v by Lopez-Sancho decimation at complex z."""
    n = len(h)
    eps_r = eps_l = eps = h.astype(complex)
    a, b = v.astype(complex), v.conj().T.astype(complex)
    for _ in range(iters):
        g = np.linalg.inv(z * np.eye(n) - eps)
        agb, bga = a @ g @ b, b @ g @ a
        eps_r, eps_l, eps = eps_r + agb, eps_l + bga, eps + agb + bga
        a, b = a @ g @ a, b @ g @ b
        if max(np.abs(a).max(), np.abs(b).max()) < 1e-14:
            break
    g_r = np.linalg.inv(z * np.eye(n) - eps_r)  # surface of the lead running to +inf
    g_l = np.linalg.inv(z * np.eye(n) - eps_l)  # surface of the lead running to -inf
    return v @ g_r @ v.conj().T, v.conj().T @ g_l @ v


@pytest.mark.parametrize("method", ["schur", "qz"])
@pytest.mark.parametrize("builder", ["folded", "spinful", "random_rank_deficient"])
def test_self_energies_match_decimation_and_dyson(builder, method):
    rng = np.random.default_rng(21)
    if builder == "folded":
        h, v = fold_cells(*strip_blocks(4), p=2)
    elif builder == "spinful":
        h, v = fold_cells(*spinful_strip_blocks(2, rashba=0.5, zeeman=(0.1, 0.3, -0.2)), p=2)
    else:
        n, r = 8, 3
        a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        h = 0.15 * (a + a.conj().T)
        v = np.zeros((n, n), complex)
        v[n - r:, :r] = rng.normal(size=(r, r)) + 1j * rng.normal(size=(r, r))
    e = 0.0 if builder == "random_rank_deficient" else -0.35
    m = lead_modes(h, v, e, method=method)
    assert m.n_modes > 0
    # modes propagate with their Bloch factors under the self-energies
    np.testing.assert_allclose(m.self_energy_right @ m.u_right, v @ m.u_right * m.lam_right, atol=1e-10)
    np.testing.assert_allclose(m.self_energy_left @ m.u_left, v.conj().T @ m.u_left / m.lam_left, atol=1e-10)
    # Dyson equations of the semi-infinite leads
    eye = np.eye(len(h))
    sr, sl = m.self_energy_right, m.self_energy_left
    np.testing.assert_allclose(sr, v @ np.linalg.solve(e * eye - h - sr, v.conj().T), atol=1e-9)
    np.testing.assert_allclose(sl, v.conj().T @ np.linalg.solve(e * eye - h - sl, v), atol=1e-9)
    # retarded branch: independent decimation at E + i eta
    dr, dl = _decimation_self_energies(h, v, e + 1e-7j)
    np.testing.assert_allclose(sr, dr, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sl, dl, rtol=1e-5, atol=1e-5)


def test_real_lead_pairs_left_modes_as_complex_conjugates():
    h, v = strip_blocks(6)
    m = lead_modes(h, v, 0.2)
    np.testing.assert_allclose(m.u_left, m.u_right.conj(), atol=0)
    np.testing.assert_allclose(m.lam_left, m.lam_right.conj(), atol=0)


def test_degenerate_modes_are_current_diagonal():
    # two identical decoupled chains: every Bloch factor is doubly degenerate
    # (a Peierls phase makes the blocks complex, so the generic path is exercised)
    h = np.zeros((2, 2))
    v = -np.exp(0.3j) * np.eye(2)
    m = lead_modes(h, v, 0.5)
    assert m.n_modes == 2
    x = np.hstack([_x(m, m.u_right, m.lam_right), _x(m, m.u_left, m.lam_left)])
    np.testing.assert_allclose(current_form(v, x, x), np.diag([1, 1, -1, -1]), atol=1e-10)


def test_band_edge_energy_is_rejected():
    h, v = chain_blocks()
    with pytest.raises(ValueError, match="band edge"):
        lead_modes(h, v, 2.0)


def test_bloch_factors_match_dense_companion_pencil():
    # independent reference: all 2n eigenvalues of the uncompressed companion pencil
    import scipy.linalg as sla

    rng = np.random.default_rng(13)
    n, r = 10, 4
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    h = 0.15 * (a + a.conj().T)
    v = np.zeros((n, n), complex)
    v[n - r:, :r] = rng.normal(size=(r, r)) + 1j * rng.normal(size=(r, r))
    e = 0.4  # two propagating modes per direction here
    m = lead_modes(h, v, e)
    eye, zero = np.eye(n), np.zeros((n, n))
    lam = sla.eigvals(np.block([[zero, eye], [-v.conj().T, e * eye - h]]),
                      np.block([[eye, zero], [zero, v]]))
    lam = lam[np.isfinite(lam)]
    prop = np.sort_complex(lam[np.abs(np.abs(lam) - 1) < 1e-8])
    assert m.n_modes == 2 and len(prop) == 4
    np.testing.assert_allclose(np.sort_complex(np.r_[m.lam_right, m.lam_left]), prop, atol=1e-9)
    # the evanescent spectrum enters through Σ: det(E - h - Σ+ ...) consistency is covered by
    # the decimation test; here check the number of finite |λ| < 1 solutions equals rank - N
    assert np.sum(np.abs(lam) < 1 - 1e-8) - np.sum(np.abs(lam) < 1e-12) == r - m.n_modes


def test_schur_and_qz_paths_agree_on_full_rank_lead():
    rng = np.random.default_rng(31)
    n = 12
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    h = 0.2 * (a + a.conj().T)
    v = 0.5 * (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    ms, mq = lead_modes(h, v, 0.1, method="schur"), lead_modes(h, v, 0.1, method="qz")
    assert ms.n_modes == mq.n_modes > 0
    np.testing.assert_allclose(np.sort_complex(ms.lam_right), np.sort_complex(mq.lam_right), atol=1e-10)
    np.testing.assert_allclose(ms.self_energy_right, mq.self_energy_right, atol=1e-10)
    np.testing.assert_allclose(ms.self_energy_left, mq.self_energy_left, atol=1e-10)
    with pytest.raises(ValueError, match="method must be"):
        lead_modes(h, v, 0.1, method="eig")


def _dense_propagating(h, v, e):
    """Propagating Bloch factors, modes u and velocities J(u, u)/|u|² from a dense
    eigen-solve of the uncompressed 2n × 2n companion pencil (independent reference)."""
    import scipy.linalg as sla

    n = len(h)
    eye, zero = np.eye(n), np.zeros((n, n))
    lam, vec = sla.eig(np.block([[zero, eye], [-v.conj().T, e * eye - h]]),
                       np.block([[eye, zero], [zero, v]]))
    ok = np.isfinite(lam)
    lam, vec = lam[ok], vec[:, ok]
    n_decay = np.sum(np.abs(lam) < 1 - 1e-8) - np.sum(np.abs(lam) < 1e-12)  # finite, non-zero
    prop = np.abs(np.abs(lam) - 1) < 1e-8
    lam, u = lam[prop], vec[n:, prop]  # x = (ψ_{j-1}; ψ_j): ψ_0 = u
    vel = -2 * np.imag(lam * np.einsum("ik,ij,jk->k", u.conj(), v, u)) / np.sum(np.abs(u) ** 2, axis=0)
    return lam, u, vel, n_decay


@pytest.mark.parametrize("n, r, real, seed", [(80, 80, False, 3), (80, 80, True, 4), (100, 60, False, 5)])
def test_blocked_reordering_path_matches_dense_pencil(n, r, real, seed):
    # 2r >= 120 > 2 * _REORDER_BLOCK and Sylvester blocks > _SYLVESTER_LEAF: the blocked
    # Schur reordering and the recursive Sylvester solver are exercised
    rng = np.random.default_rng(seed)
    im = 0.0 if real else 1.0
    a = rng.normal(size=(n, n)) + im * 1j * rng.normal(size=(n, n))
    h = 0.1 * (a + a.conj().T) / np.sqrt(n)
    v = np.zeros((n, n), complex)
    v[n - r:, :r] = (rng.normal(size=(r, r)) + im * 1j * rng.normal(size=(r, r))) / np.sqrt(2 * r)
    if real:
        v, h = v.real, h.real
    e = 0.1
    m = lead_modes(h, v, e)
    lam, u, vel, n_decay = _dense_propagating(h, v, e)
    assert m.n_modes >= 2
    # the same number of right- and left-going modes as the dense solve
    assert np.sum(vel > 0) == np.sum(vel < 0) == m.n_modes
    assert n_decay == r - m.n_modes  # finite decaying solutions: rank − N
    np.testing.assert_allclose(np.sort(m.vel_right), np.sort(vel[vel > 0]), rtol=1e-8)
    np.testing.assert_allclose(np.sort(m.vel_left), np.sort(vel[vel < 0]), rtol=1e-8)
    # each right-going mode is the dense eigenvector with the same Bloch factor (random
    # leads are non-degenerate, so up to a phase)
    for lam_k, u_k in zip(m.lam_right, m.u_right.T):
        j = np.argmin(np.abs(lam - lam_k))
        assert abs(lam[j] - lam_k) < 1e-9 and vel[j] > 0
        overlap = abs(np.vdot(u[:, j], u_k)) / (np.linalg.norm(u[:, j]) * np.linalg.norm(u_k))
        assert overlap > 1 - 1e-10
    # self-energies: Dyson equations and the untouched QZ path
    eye = np.eye(n)
    sr, sl = m.self_energy_right, m.self_energy_left
    np.testing.assert_allclose(sr, v @ np.linalg.solve(e * eye - h - sr, v.conj().T), atol=1e-9)
    np.testing.assert_allclose(sl, v.conj().T @ np.linalg.solve(e * eye - h - sl, v), atol=1e-9)
    mq = lead_modes(h, v, e, method="qz")
    np.testing.assert_allclose(sr, mq.self_energy_right, atol=1e-9)
    np.testing.assert_allclose(sl, mq.self_energy_left, atol=1e-9)


def test_blocked_schur_reordering_and_sylvester_solver():
    import scipy.linalg as sla
    from scipy.linalg import lapack

    from tbmto.wfm.leads import _reorder_schur, _sylvester

    rng = np.random.default_rng(8)
    k = 150
    t0 = rng.normal(size=(k, k)) + 1j * rng.normal(size=(k, k))
    tt, zz = sla.schur(t0, output="complex")
    select = np.abs(np.diag(tt)) < np.median(np.abs(np.diag(tt)))
    ns = int(select.sum())
    ref_t, ref_z = lapack.ztrsen(select.astype(np.int32), tt, zz, job="N")[:2]
    r, z = _reorder_schur(tt.copy(), zz.copy(), select, "test")
    assert np.all(np.tril(r, -1) == 0)
    np.testing.assert_allclose(z.conj().T @ z, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(z @ r @ z.conj().T, t0, atol=1e-11 * np.abs(t0).max())
    np.testing.assert_allclose(np.sort_complex(np.diag(r)[:ns]), np.sort_complex(np.diag(ref_t)[:ns]), atol=1e-10)
    # same invariant subspace as LAPACK's unblocked ztrsen
    proj, ref_proj = z[:, :ns] @ z[:, :ns].conj().T, ref_z[:, :ns] @ ref_z[:, :ns].conj().T
    np.testing.assert_allclose(proj, ref_proj, atol=1e-11)
    # recursive Sylvester solver: R11 X - X R22 = -R12 for the two diagonal blocks
    x = _sylvester(r[:ns, :ns], r[ns:, ns:], -r[:ns, ns:], "test")
    np.testing.assert_allclose(r[:ns, :ns] @ x - x @ r[ns:, ns:], -r[:ns, ns:], atol=1e-10)
    w = z[:, :ns] @ x + z[:, ns:]  # invariant subspace of the trailing eigenvalues
    np.testing.assert_allclose(t0 @ w, w @ r[ns:, ns:], atol=1e-10 * np.abs(t0).max() * np.abs(w).max())
