"""Analytic dS/dθ (Fisher–Lee, dG = G dH G) against central finite differences."""

import numpy as np
import pytest

from tbmto.wfm import lead_modes, smatrix, smatrix_from_modes
from tbmto.wfm.models import SIGMA_X, SIGMA_Y, SIGMA_Z, fold_cells, spinful_strip_blocks, strip_blocks


def _random_hermitian(n, rng):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return 0.5 * (a + a.conj().T)


def _fd(left, right, hs, vs, dh, dv=None, step=1e-5):
    """Central difference of S(θ) for H(θ) = H0 + θ H1 (onsite dh, optional couplings dv)."""
    dv = [None] * len(vs) if dv is None else dv

    def s_at(t):
        h_t = [h + t * d for h, d in zip(hs, dh)]
        v_t = [v if d is None else v + t * d for v, d in zip(vs, dv)]
        return smatrix_from_modes(left, right, h_t, v_t).S

    return (s_at(step) - s_at(-step)) / (2 * step)


@pytest.mark.parametrize("cells", [1, 2])
def test_random_perturbation_matches_finite_difference(cells):
    # cells = 2: folded layers, couplings with zero rows (structurally sparse sweep path)
    rng = np.random.default_rng(2)
    h, v = fold_cells(*strip_blocks(5), p=cells)
    n = len(h)
    m = 8
    hs = [h + np.diag(rng.uniform(-1.2, 1.2, n)) for _ in range(m)]
    vs = [v] * (m + 1)
    dh = [_random_hermitian(n, rng) for _ in range(m)]
    lead = lead_modes(h, v, 0.35)
    res = smatrix_from_modes(lead, lead, hs, vs, dh)
    fd = _fd(lead, lead, hs, vs, dh)
    assert np.max(np.abs(res.dS - fd)) < 1e-6 * np.max(np.abs(res.dS))
    # S unitary for every θ  =>  S† dS is anti-Hermitian
    x = res.S.conj().T @ res.dS
    assert np.max(np.abs(x + x.conj().T)) < 1e-10 * np.max(np.abs(res.dS))


def test_spin_rotation_in_exchange_split_soc_slab_with_singular_hopping():
    # exchange-split slab with Rashba SOC, rank-deficient (folded) hoppings, different
    # left/right lead block sizes; θ rotates every moment about x: dH = Δ (x × m)·σ
    rng = np.random.default_rng(4)
    width, delta = 3, 0.6
    h1, v1 = spinful_strip_blocks(width, rashba=0.25)
    hf, vf = fold_cells(h1, v1, 2)  # right lead: two columns per cell (rank-deficient v)
    n = 2 * width
    m_dirs = rng.normal(size=(5, width, 3))
    m_dirs /= np.linalg.norm(m_dirs, axis=-1, keepdims=True)
    hs, dh = [], []
    for layer in m_dirs:
        exch = sum(np.kron(np.diag(layer[:, a]), s) for a, s in enumerate((SIGMA_X, SIGMA_Y, SIGMA_Z)))
        dmdt = np.cross([1.0, 0.0, 0.0], layer)
        dexch = sum(np.kron(np.diag(dmdt[:, a]), s) for a, s in enumerate((SIGMA_X, SIGMA_Y, SIGMA_Z)))
        hs.append(h1 + delta * exch + np.kron(np.diag(rng.uniform(-0.8, 0.8, width)), np.eye(2)))
        dh.append(delta * dexch)
    v_last = np.zeros((n, 2 * n), complex)
    v_last[:, :n] = v1
    vs = [v1] * 5 + [v_last]
    energy = 0.4
    left, right = lead_modes(h1, v1, energy), lead_modes(hf, vf, energy)
    res = smatrix_from_modes(left, right, hs, vs, dh)
    assert res.unitarity_error() < 1e-10
    fd = _fd(left, right, hs, vs, dh)
    assert np.max(np.abs(res.dS - fd)) < 1e-6 * np.max(np.abs(res.dS))
    # gauge-invariant damping trace Re Tr(dS† dS) agrees too
    assert res.damping_trace() == pytest.approx(float(np.sum(np.abs(fd) ** 2)), rel=1e-6)
    # and the public entry point gives the same numbers
    pub = smatrix(h1, v1, hs, vs, hf, vf, energy=energy, dh_slab=dh)
    assert pub.damping_trace() == pytest.approx(res.damping_trace(), rel=1e-12)


def test_single_layer_slab_and_s_independent_of_derivative_request():
    rng = np.random.default_rng(8)
    h, v = strip_blocks(4)
    hs = [h + np.diag(rng.uniform(-1, 1, 4))]
    dh = [_random_hermitian(4, rng)]
    lead = lead_modes(h, v, -0.9)
    with_d = smatrix_from_modes(lead, lead, hs, [v, v], dh)
    without = smatrix_from_modes(lead, lead, hs, [v, v])
    np.testing.assert_array_equal(with_d.S, without.S)
    fd = _fd(lead, lead, hs, [v, v], dh)
    assert np.max(np.abs(with_d.dS - fd)) < 1e-6 * np.max(np.abs(with_d.dS))


def test_damping_trace_requires_derivative():
    h, v = strip_blocks(2)
    res = smatrix(h, v, [h], [v, v], h, v, energy=0.1)
    assert res.dS is None
    with pytest.raises(ValueError, match="dh_slab"):
        res.damping_trace()


def test_damping_without_soc_equals_spin_pumping_mixing_conductance():
    # No SOC, non-magnetic leads, slab exchange Δ m·σ with m = z rotated about x:
    # S(θ) = U S U†, so Re Tr(∂S†∂S) = C − Re Tr(S↑† S↓) with C the number of channels
    # per spin in both leads (the Tserkovnyak–Brataas–Bauer mixing-conductance form of
    # seed Eqs. 63/69), S↑, S↓ from separate spinless calculations in one mode basis.
    rng = np.random.default_rng(23)
    width, layers, delta, energy = 3, 6, 0.7, 0.25
    h0, v0 = strip_blocks(width)
    pots = [np.diag(rng.uniform(-1.0, 1.0, width)) for _ in range(layers)]
    s2 = np.eye(2)
    h_sp, v_sp = np.kron(h0, s2), np.kron(v0, s2)
    hs = [np.kron(h0 + p, s2) + delta * np.kron(np.eye(width), SIGMA_Z) for p in pots]
    dh = [-delta * np.kron(np.eye(width), SIGMA_Y) for _ in range(layers)]  # ∂(Δ m·σ)/∂θ, m' = x × m
    res = smatrix(h_sp, v_sp, hs, [v_sp] * (layers + 1), h_sp, v_sp, energy=energy, dh_slab=dh)
    lead = lead_modes(h0, v0, energy)
    s_up = smatrix_from_modes(lead, lead, [h0 + p + delta * np.eye(width) for p in pots], [v0] * (layers + 1)).S
    s_dn = smatrix_from_modes(lead, lead, [h0 + p - delta * np.eye(width) for p in pots], [v0] * (layers + 1)).S
    channels = s_up.shape[0]
    assert res.S.shape[0] == 2 * channels
    expected = channels - np.real(np.trace(s_up.conj().T @ s_dn))
    assert expected > 0.05
    assert res.damping_trace() == pytest.approx(expected, rel=1e-9)


# --- θ in the couplings between slab layers (dv_slab) ---------------------------------


def _random_block(n1, n2, rng):
    return rng.normal(size=(n1, n2)) + 1j * rng.normal(size=(n1, n2))


def _mixed_size_model(rng, energy):
    """Leads of sizes 3 (strip) and 6 (folded strip, singular hopping); slab layers of
    sizes 3, 5, 4, 6, 2, 4 with one coupling with zero rows (sparse sweep path) and one
    dense rank-1 coupling."""
    h_l, v_l = strip_blocks(3)
    h_r, v_r = fold_cells(*strip_blocks(3), p=2)
    sizes = [3, 5, 4, 6, 2, 4]
    m = len(sizes)
    hs = [0.6 * _random_hermitian(n, rng) for n in sizes]
    vs = [np.zeros((3, 3)) - np.eye(3)]  # v_0: left lead cell -> slab layer 0 (3 x 3)
    for i in range(1, m):
        vs.append(0.5 * _random_block(sizes[i - 1], sizes[i], rng))
    vs[2][:3, :] = 0.0  # zero rows: layer 1 couples to layer 2 via its last 2 orbitals only
    vs[4] = 0.8 * np.outer(_random_block(sizes[3], 1, rng), _random_block(1, sizes[4], rng))  # rank 1
    v_m = np.zeros((sizes[-1], 6), complex)
    v_m[:, :3] = 0.7 * _random_block(sizes[-1], 3, rng)
    vs.append(v_m)
    left, right = lead_modes(h_l, v_l, energy), lead_modes(h_r, v_r, energy)
    return left, right, hs, vs, sizes


@pytest.mark.parametrize("with_dh", [True, False])
def test_coupling_derivative_matches_finite_difference_mixed_blocks(with_dh):
    rng = np.random.default_rng(31)
    left, right, hs, vs, sizes = _mixed_size_model(rng, 0.3)
    m = len(sizes)
    dh = [_random_hermitian(n, rng) if with_dh else np.zeros((n, n)) for n in sizes]
    # dense coupling derivatives, also where v has zero rows / is rank 1
    dv = [None] + [_random_block(sizes[i - 1], sizes[i], rng) for i in range(1, m)] + [None]
    res = smatrix_from_modes(left, right, hs, vs, dh if with_dh else None, dv_slab=dv)
    assert res.unitarity_error() < 1e-10
    assert left.n_modes > 0 and right.n_modes > 0
    fd = _fd(left, right, hs, vs, dh, dv, step=1e-6)
    scale = np.max(np.abs(res.dS))
    assert scale > 1e-2
    assert np.max(np.abs(res.dS - fd)) < 1e-7 * scale
    x = res.S.conj().T @ res.dS
    assert np.max(np.abs(x + x.conj().T)) < 1e-10 * scale
    # the coupling terms matter: dropping them gives a wrong derivative
    if with_dh:
        res_h = smatrix_from_modes(left, right, hs, vs, dh)
        assert np.max(np.abs(res_h.dS - fd)) > 1e-2 * scale
    # public entry point agrees
    pub = smatrix(left.h, left.v, hs, vs, right.h, right.v, energy=0.3,
                  dh_slab=dh if with_dh else None, dv_slab=dv)
    np.testing.assert_allclose(pub.dS, res.dS, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("cells", [1, 2])
def test_coupling_derivative_uniform_strip(cells):
    # cells = 2: folded layers, couplings with zero rows (structurally sparse sweep path)
    rng = np.random.default_rng(5)
    h, v = fold_cells(*strip_blocks(4), p=cells)
    n = len(h)
    m = 6
    hs = [h + np.diag(rng.uniform(-1.0, 1.0, n)) for _ in range(m)]
    vs = [v] * (m + 1)
    dh = [_random_hermitian(n, rng) for _ in range(m)]
    dv = [None] + [_random_block(n, n, rng) for _ in range(m - 1)] + [np.zeros((n, n))]
    lead = lead_modes(h, v, -0.45)
    res = smatrix_from_modes(lead, lead, hs, vs, dh, dv_slab=dv)
    fd = _fd(lead, lead, hs, vs, dh, dv, step=1e-6)
    assert np.max(np.abs(res.dS - fd)) < 1e-7 * np.max(np.abs(res.dS))


def _congruence(hs, vs, xs, theta):
    """Slab blocks of Y† H Y with Y = 1 + θ X block-diagonal (leads untouched)."""
    ys = [np.eye(len(x)) + theta * x for x in xs]
    m = len(hs)
    h_t = [y.conj().T @ h @ y for y, h in zip(ys, hs)]
    v_t = [vs[0] @ ys[0]] + [ys[i - 1].conj().T @ vs[i] @ ys[i] for i in range(1, m)]
    v_t.append(ys[m - 1].conj().T @ vs[m])
    return h_t, v_t


@pytest.mark.parametrize("model", ["mixed", "spinful"])
def test_onsite_congruence_leaves_s_invariant_and_ds_vanishes(model):
    # H'(θ) = Y(θ)† H Y(θ) on the slab, Y = 1 + θX on-site with X = 0 in the first and
    # last (buffer) layers: at E = 0, K' = Y† K Y and the leads are unchanged, so
    # S'(θ) = S for every θ and the analytic dS (dh = X†h + hX, dv_i = X_{i-1}† v_i + v_i X_i)
    # must vanish. Only the coupling terms cancel the onsite ones here.
    rng = np.random.default_rng(17)
    if model == "mixed":
        left, right, hs, vs, sizes = _mixed_size_model(rng, 0.0)
    else:
        width = 3
        h1, v1 = spinful_strip_blocks(width, rashba=0.3)
        hf, vf = fold_cells(h1, v1, 2)
        n = 2 * width
        sizes = [n, n, 2 * n, n, n]
        hs = [h1 + 0.5 * np.kron(np.diag(rng.uniform(-1, 1, width)), SIGMA_Z), h1, hf, h1 + 0.4 * _random_hermitian(n, rng), h1]
        v_into_fold = np.zeros((n, 2 * n), complex)
        v_into_fold[:, :n] = v1
        v_out_fold = np.zeros((2 * n, n), complex)
        v_out_fold[n:, :] = v1
        v_last = np.zeros((n, 2 * n), complex)
        v_last[:, :n] = v1
        vs = [v1, v1, v_into_fold, v_out_fold, v1, v_last]
        left, right = lead_modes(h1, v1, 0.0), lead_modes(hf, vf, 0.0)
    m = len(sizes)
    assert left.n_modes > 0 and right.n_modes > 0
    xs = [np.zeros((n, n), complex) if i in (0, m - 1) else 0.7 * _random_block(n, n, rng) for i, n in enumerate(sizes)]
    res0 = smatrix_from_modes(left, right, hs, vs)
    assert res0.unitarity_error() < 1e-10
    # S' = S exactly at finite θ (checks the construction)
    h_t, v_t = _congruence(hs, vs, xs, 0.37)
    s_t = smatrix_from_modes(left, right, h_t, v_t).S
    assert np.max(np.abs(s_t - res0.S)) < 1e-10
    dh = [x.conj().T @ h + h @ x for x, h in zip(xs, hs)]
    dv = [None] + [xs[i - 1].conj().T @ vs[i] + vs[i] @ xs[i] for i in range(1, m)] + [None]
    res = smatrix_from_modes(left, right, hs, vs, dh, dv_slab=dv)
    np.testing.assert_array_equal(res.S, res0.S)
    assert np.max(np.abs(res.dS)) < 1e-10
    # neither part vanishes on its own
    only_h = smatrix_from_modes(left, right, hs, vs, dh).dS
    only_v = smatrix_from_modes(left, right, hs, vs, dv_slab=dv).dS
    assert np.max(np.abs(only_h)) > 1e-2
    np.testing.assert_allclose(only_v, -only_h, rtol=0, atol=1e-10)


def test_dv_slab_rejects_lead_coupling_derivatives_and_bad_shapes():
    h, v = strip_blocks(3)
    hs = [h, h + 0.1 * np.eye(3), h]
    vs = [v] * 4
    lead = lead_modes(h, v, 0.2)
    ok = [None, np.eye(3), np.eye(3), None]
    smatrix_from_modes(lead, lead, hs, vs, dv_slab=ok)
    for bad in ([np.eye(3), None, None, None], [None, None, None, 1e-300 * np.eye(3)]):
        with pytest.raises(ValueError, match=r"dv_slab\[[03]\].*lead couplings are not supported.*buffer"):
            smatrix_from_modes(lead, lead, hs, vs, dv_slab=bad)
        with pytest.raises(ValueError, match=r"lead couplings are not supported"):
            smatrix(h, v, hs, vs, h, v, energy=0.2, dh_slab=[h] * 3, dv_slab=bad)
    with pytest.raises(ValueError, match=r"dv_slab\[2\] must have shape \(3, 3\)"):
        smatrix_from_modes(lead, lead, hs, vs, dv_slab=[None, np.eye(3), np.eye(2), None])
    with pytest.raises(ValueError, match=r"dv_slab must have M\+1 = 4"):
        smatrix_from_modes(lead, lead, hs, vs, dv_slab=[None, np.eye(3), None])
    with pytest.raises(ValueError, match=r"dv_slab\[1\] contains NaN"):
        smatrix_from_modes(lead, lead, hs, vs, dv_slab=[None, np.full((3, 3), np.nan), None, None])
    # zero blocks at the ends are fine, and dv alone gives dS
    res = smatrix_from_modes(lead, lead, hs, vs, dv_slab=[np.zeros((3, 3)), None, None, np.zeros((3, 3))])
    assert res.dS is not None and not np.any(res.dS)


def test_dv_slab_none_is_bitwise_identical():
    rng = np.random.default_rng(2)
    h, v = fold_cells(*strip_blocks(5), p=2)
    n = len(h)
    m = 5
    hs = [h + np.diag(rng.uniform(-1.2, 1.2, n)) for _ in range(m)]
    vs = [v] * (m + 1)
    dh = [_random_hermitian(n, rng) for _ in range(m)]
    lead = lead_modes(h, v, 0.35)
    old = smatrix_from_modes(lead, lead, hs, vs, dh)
    for dv in (None, [None] * (m + 1), [np.zeros((n, n))] * (m + 1)):
        new = smatrix_from_modes(lead, lead, hs, vs, dh, dv_slab=dv)
        assert np.array_equal(new.S, old.S) and np.array_equal(new.dS, old.dS)
    pub_old = smatrix(h, v, hs, vs, h, v, energy=0.35, dh_slab=dh)
    pub_new = smatrix(h, v, hs, vs, h, v, energy=0.35, dh_slab=dh, dv_slab=None)
    assert np.array_equal(pub_new.S, pub_old.S) and np.array_equal(pub_new.dS, pub_old.dS)
    assert np.array_equal(smatrix_from_modes(lead, lead, hs, vs).S, old.S)
    assert smatrix_from_modes(lead, lead, hs, vs, dv_slab=None).dS is None
