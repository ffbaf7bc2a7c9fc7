"""Tests of tbmto.wfm.batched: the batched (Caroli + stacked eig) transmission against the per-k
S-matrix path (tbmto.wfm.smatrix), on model lattices and on the 1×1 Cu [001] MTO stack.

The magnetic species "Ni" used below is the FICTITIOUS spin-split Cu of tests/conftest.py
(test data, not a model of real Ni).
"""

from pathlib import Path

import numpy as np
import pytest

from tbmto.layers import kmesh
from tbmto.model import MTOModel
from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.wfm import lead_modes, smatrix
from tbmto.wfm.batched import (
    BatchedResult,
    LeadMap,
    batch_size_for,
    lead_self_energies_batched,
    stack_blocks,
    transmission_batched,
)
from tbmto.wfm.models import fold_cells, spinful_strip_blocks, strip_blocks

CU = Path(__file__).parent / "data" / "cu_rslmto.json"
TOL = 1e-10


# ---------------------------------------------------------------- helpers


def per_k(args, energy=0.0):
    """smatrix on every batch element: (T, N_left, N_right, Tr t†t(1 − t†t))."""
    hl, vl, hs, vs, hr, vr = args
    out = []
    for b in range(hl.shape[0]):
        r = smatrix(hl[b], vl[b], [x[b] for x in hs], [x[b] for x in vs], hr[b], vr[b], energy)
        out.append((r.transmission(), r.n_left, r.n_right, r.noise_trace()))
    t, nl, nr, noise = (np.array(c) for c in zip(*out))
    return t, nl, nr, noise


def assert_matches(res: BatchedResult, args, energy=0.0, tol=TOL):
    """Channel counts, T and the shot-noise trace of the batched (Caroli / Mahaux–Weidenmüller)
    path equal the per-element S-matrix."""
    t, nl, nr, noise = per_k(args, energy)
    np.testing.assert_array_equal(res.n_left, nl)
    np.testing.assert_array_equal(res.n_right, nr)
    np.testing.assert_allclose(res.transmission, t, rtol=0, atol=tol)
    np.testing.assert_allclose(res.noise, noise, rtol=0, atol=tol)
    assert np.all(res.unitarity_error < 1e-9)
    return t


def twisted_strip(width, phase, t=1.0):
    """Square-lattice strip with a periodic transverse boundary twisted by e^{i phase} (a k∥)."""
    h, v = strip_blocks(width, t)
    h = h.astype(complex)
    h[width - 1, 0] += -t * np.exp(1j * phase)
    h[0, width - 1] += -t * np.exp(-1j * phase)
    return h, v.astype(complex)


def disordered_slab(h, v, m, rng, w=0.8, bsz=None):
    """Stacked slab blocks: lead blocks + random onsite disorder (per batch element)."""
    hs = []
    for _ in range(m):
        d = rng.uniform(-w, w, size=(bsz, h.shape[-1]))
        hs.append(h + d[:, :, None] * np.eye(h.shape[-1]))
    vs = [np.broadcast_to(v, (bsz,) + v.shape[-2:]).copy() for _ in range(m + 1)]
    return hs, vs


def stacked(x, bsz):
    return np.broadcast_to(x, (bsz,) + x.shape[-2:]).copy()


# ---------------------------------------------------------------- model lattices


def test_twisted_strips_match_smatrix():
    """Complex leads that differ per element (a k∥-like twist), disordered slab, E generic."""
    rng = np.random.default_rng(0)
    bsz, width, m, e = 24, 4, 3, 0.37
    leads = [twisted_strip(width, p) for p in np.linspace(0.1, 2 * np.pi - 0.1, bsz)]
    hl = np.stack([x[0] for x in leads])
    vl = np.stack([x[1] for x in leads])
    hs, vs = disordered_slab(hl, vl, m, rng, bsz=bsz)
    args = (hl, vl, hs, vs, hl, vl)
    res = transmission_batched(*args, energy=e)
    assert res.n_fallback == 0, res.reason
    assert res.n_lead_solves == bsz  # identical left and right leads: one solve per element
    t = assert_matches(res, args, e)
    assert np.all(t > 0) and np.all(t <= res.n_left + 1e-12)


def test_spinful_strip_degenerate_and_magnetic_match_smatrix():
    """Spin-degenerate (Rashba only, Kramers pairs) and Zeeman-split leads; a slab with random
    exchange fields. Degenerate propagating modes need no current diagonalisation here."""
    rng = np.random.default_rng(1)
    bsz, width, m = 12, 3, 2
    for zeeman in ((0.0, 0.0, 0.0), (0.2, 0.0, 0.3)):
        h, v = spinful_strip_blocks(width, rashba=0.3, zeeman=zeeman)
        hl, vl = stacked(h, bsz), stacked(v, bsz)
        hs = []
        for _ in range(m):
            bfield = rng.normal(scale=0.3, size=(bsz, 3))
            sig = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])
            site = np.einsum("ba,aij->bij", bfield, sig)
            hs.append(hl + np.einsum("st,bij->bsitj", np.eye(width), site).reshape(bsz, 2 * width, 2 * width))
        vs = [vl.copy() for _ in range(m + 1)]
        args = (hl, vl, hs, vs, hl, vl)
        res = transmission_batched(*args, energy=-0.9)
        assert res.n_fallback == 0, res.reason
        assert_matches(res, args, -0.9)
        if zeeman == (0.0, 0.0, 0.0):
            assert np.all(res.n_left % 2 == 0)  # Kramers pairs


def test_folded_rank_deficient_leads_and_distinct_leads_match_smatrix():
    """Two-cell supercells (rank-deficient hopping, rank W of 2W), a right lead different
    from the left one, and layers of different sizes (rectangular couplings)."""
    rng = np.random.default_rng(2)
    bsz, e = 16, 0.21
    hl_, vl_ = fold_cells(*twisted_strip(3, 0.7), 2)  # 6 orbitals, rank 3
    assert np.linalg.matrix_rank(vl_) == 3
    hr_, vr_ = strip_blocks(4)
    hr_ = hr_ + 0.15 * np.eye(4)
    hl, vl = stacked(hl_, bsz), stacked(vl_, bsz)
    hr, vr = stacked(hr_.astype(complex), bsz), stacked(vr_.astype(complex), bsz)
    sizes = [6, 5, 4]
    hs = []
    for n in sizes:
        a = rng.normal(size=(bsz, n, n)) + 1j * rng.normal(size=(bsz, n, n))
        hs.append(0.3 * (a + np.conj(np.swapaxes(a, 1, 2))) + strip_blocks(n)[0])
    dims = [6] + sizes + [4]
    vs = [-np.eye(dims[i], dims[i + 1]) + 0.1 * rng.normal(size=(bsz, dims[i], dims[i + 1]))
          for i in range(len(sizes) + 1)]
    args = (hl, vl, hs, vs, hr, vr)
    res = transmission_batched(*args, energy=e)
    assert res.n_fallback == 0, res.reason
    assert res.n_lead_solves == 2 * bsz
    assert_matches(res, args, e)
    # a single slab layer (M = 1): Σ_L and Σ_R on the same block
    args1 = (hl, vl, [hs[0]], [vs[0], -np.eye(6, 4) + 0 * vs[-1][:, :1, :1]], hr, vr)
    res1 = transmission_batched(*args1, energy=e)
    assert res1.n_fallback == 0
    assert_matches(res1, args1, e)


def test_decoupled_lead_has_no_channels():
    """v = 0 (rank 0): no modes, T = 0, as smatrix."""
    bsz = 3
    h, v = strip_blocks(3)
    hl, vl = stacked(h.astype(complex), bsz), np.zeros((bsz, 3, 3), complex)
    hr, vr = stacked(h.astype(complex), bsz), stacked(v.astype(complex), bsz)
    args = (hl, vl, [hr.copy()], [stacked(v.astype(complex), bsz)] * 2, hr, vr)
    res = transmission_batched(*args, energy=0.3)
    np.testing.assert_array_equal(res.n_left, 0)
    assert np.all(res.n_right > 0)
    assert_matches(res, args, 0.3)


def test_lead_self_energies_match_lead_modes():
    """Σ₊, Σ₋ and the mode counts of the stacked solve equal lead_modes' (folded lead)."""
    bsz = 8
    leads = [fold_cells(*twisted_strip(3, p), 2) for p in np.linspace(0.3, 5.9, bsz)]
    h = np.stack([x[0] for x in leads])
    v = np.stack([x[1] for x in leads])
    out = lead_self_energies_batched(h, v, 0.45)
    assert np.all(out.ok), out.reason
    for b in range(bsz):
        ref = lead_modes(h[b], v[b], 0.45)
        assert out.n_modes[b] == ref.n_modes
        np.testing.assert_allclose(out.self_energy_right[b], ref.self_energy_right, atol=1e-11)
        np.testing.assert_allclose(out.self_energy_left[b], ref.self_energy_left, atol=1e-11)
        g = np.linalg.inv(0.45 * np.eye(6) - h[b] - ref.self_energy_left)
        np.testing.assert_allclose(out.surface_green_left[b], g, atol=1e-10)


# ---------------------------------------------------------------- fallback


def chain_batch(shifts, m=2):
    """1D chains (t = 1, band |E − ε| < 2) with lead onsite shifts ε per element."""
    bsz = len(shifts)
    hl = np.asarray(shifts, float).reshape(bsz, 1, 1).astype(complex)
    vl = -np.ones((bsz, 1, 1), complex)
    hs = [0.2 * np.ones((bsz, 1, 1), complex) for _ in range(m)]
    vs = [vl.copy() for _ in range(m + 1)]
    return hl, vl, hs, vs, hl, vl


def test_fallback_near_band_edge_is_exact():
    """Element 1 sits 1e-10 outside the band edge (|λ| = 1 − 1.4e-5, inside the ambiguous
    zone): it is recomputed by smatrix and flagged, the others stay batched."""
    args = chain_batch([0.0, -2.0 - 1e-10, 0.5, -2.0 + 1e-4])
    res = transmission_batched(*args, energy=0.0)
    np.testing.assert_array_equal(res.fallback, [False, True, False, False])
    assert "propagating threshold" in res.reason[1]
    assert res.n_fallback == 1
    t = assert_matches(res, args)
    assert t[1] == 0.0 and res.n_left[1] == 0


def test_fallback_disabled_raises_and_band_edge_error_names_element():
    args = chain_batch([0.0, -2.0 - 1e-10])
    with pytest.raises(ValueError, match="batch element 1.*propagating threshold"):
        transmission_batched(*args, fallback=False)
    # exactly at the band edge: the per-k path refuses too, and the error names the element
    args = chain_batch([0.3, -2.0])
    with pytest.raises(ValueError, match="batch element 1"):
        transmission_batched(*args)


# ---------------------------------------------------------------- 1×1 Cu [001] MTO stack


@pytest.fixture(scope="module")
def cu_model():
    atoms = build_stack("001", (1, 1), layers=4, lattice_constant=3.614, composition={"Cu": 1.0},
                        lead="Cu", lead_layers=2)
    return MTOModel.build(atoms, load(CU, linearisation="band_centre"), 0.0, soc=True, soc_form="orthogonal")


def mesh_points(model, count, seed):
    ks = kmesh(model.layered.cell2d, (64, 64))
    return ks[np.random.default_rng(seed).choice(len(ks), count, replace=False)]


def test_cu_001_matches_smatrix_and_sharvin(cu_model):
    """64 k∥ of the 64×64 mesh, SOC: T, N equal to the per-k path; perfect Cu: T = N."""
    blocks = [cu_model.blocks(k) for k in mesh_points(cu_model, 64, 0)]
    args = stack_blocks(blocks)
    assert args[0].shape == (64, 36, 36) and len(args[2]) == 4
    assert args[4] is args[0]  # identical leads stacked once
    res = transmission_batched(*args)
    assert res.n_fallback == 0, res.reason
    assert res.n_lead_solves == 64
    assert_matches(res, args)
    np.testing.assert_array_equal(res.n_left, res.n_right)
    np.testing.assert_allclose(res.transmission, res.n_left, atol=TOL)  # Sharvin: ballistic
    assert np.any(res.n_left > 0)


@pytest.mark.parametrize("decimation", [0, 2, 3])
def test_cu_001_self_energies_match_lead_modes(cu_model, decimation):
    """With and without decimation (which shrinks the pencil from 72 to ~28 here)."""
    blocks = [cu_model.blocks(k) for k in mesh_points(cu_model, 16, 1)]
    h = np.stack([b.h_left for b in blocks])
    v = np.stack([b.v_left for b in blocks])
    out = lead_self_energies_batched(h, v, decimation=decimation)
    assert np.all(out.ok), out.reason
    for b, blk in enumerate(blocks):
        ref = lead_modes(blk.h_left, blk.v_left)
        assert out.n_modes[b] == ref.n_modes
        scale = np.max(np.abs(ref.self_energy_right))
        assert np.max(np.abs(out.self_energy_right[b] - ref.self_energy_right)) < 1e-10 * scale
        assert np.max(np.abs(out.self_energy_left[b] - ref.self_energy_left)) < 1e-10 * scale


def test_cu_001_without_decimation_matches_smatrix(cu_model):
    args = stack_blocks([cu_model.blocks(k) for k in mesh_points(cu_model, 16, 6)])
    res = transmission_batched(*args, decimation=0)
    assert res.n_fallback == 0
    assert_matches(res, args)


def test_ill_conditioned_decimation_step_is_skipped():
    """E at an eigenvalue of the isolated lead cell: E − h is singular, no doubling step can
    be taken; the element is solved undecimated, exactly."""
    h, v = strip_blocks(4)
    e = float(np.linalg.eigvalsh(h)[1])
    hl, vl = stacked(h.astype(complex), 3), stacked(v.astype(complex), 3)
    hl[1] += 0.3 * np.eye(4)  # elements 0 and 2 singular, element 1 regular
    rng = np.random.default_rng(7)
    hs, vs = disordered_slab(hl, vl, 2, rng, bsz=3)
    args = (hl, vl, hs, vs, hl, vl)
    for d in (0, 2):
        res = transmission_batched(*args, energy=e, decimation=d)
        assert res.n_fallback == 0, res.reason
        assert_matches(res, args, e)


def test_magnetic_slab_with_soc_matches_smatrix(pot_mag):
    """Fictitious spin-split "Ni" slab, tilted moments, SOC: scattering, not ballistic."""
    m = np.array([1.0, 0.0, 1.0]) / np.sqrt(2.0)
    atoms = build_stack("001", (1, 1), layers=4, lattice_constant=3.614, composition={"Ni": 1.0},
                        lead="Cu", lead_layers=2, magnetization=m)
    model = MTOModel.build(atoms, pot_mag, 0.0, soc=True, soc_form="orthogonal")
    args = stack_blocks([model.blocks(k) for k in mesh_points(model, 64, 2)])
    res = transmission_batched(*args)
    assert res.n_fallback == 0, res.reason
    t = assert_matches(res, args)
    assert np.max(res.n_left - t) > 1e-3  # the magnetic slab scatters


def test_time_reversal_lead_map_on_cu(cu_model):
    """k∥ and −k∥ (mod G) of the shifted mesh: the Cu lead with SOC is time-reversal symmetric,
    h(−k) = Y h(k)* Y† with Y = 1_atom ⊗ iσ_y ⊗ 1_L; half the lead solves, same T. A wrong
    map (unitary instead of antiunitary) fails the verification and is solved instead."""
    ks = kmesh(cu_model.layered.cell2d, (64, 64))
    rng = np.random.default_rng(4)
    idx = []
    for q in rng.choice(2048, 16, replace=False):
        i, j = divmod(int(q), 64)
        idx += [i * 64 + j, (63 - i) * 64 + (63 - j)]
    args = stack_blocks([cu_model.blocks(ks[q]) for q in idx])
    y = np.kron(np.eye(2), np.kron(np.array([[0.0, 1.0], [-1.0, 0.0]]), np.eye(9)))
    source = np.full(len(idx), -1)
    source[1::2] = np.arange(0, len(idx), 2)
    res = transmission_batched(*args, lead_map=LeadMap(source, y, antiunitary=True))
    assert res.n_mapped == 16 and res.n_lead_solves == 16
    assert res.n_fallback == 0, res.reason
    assert_matches(res, args)
    wrong = transmission_batched(*args, lead_map=LeadMap(source, y, antiunitary=False))
    assert wrong.n_mapped == 0 and wrong.n_lead_solves == 32
    np.testing.assert_allclose(wrong.transmission, res.transmission, atol=TOL)


def test_unitary_lead_map_on_models():
    """A unitary relabelling U of a complex lead: Σ_b = U Σ_s U†; also with distinct leads."""
    rng = np.random.default_rng(5)
    bsz, width = 6, 4
    h, v = twisted_strip(width, 0.9)
    q, _ = np.linalg.qr(rng.normal(size=(width, width)) + 1j * rng.normal(size=(width, width)))
    hl = np.stack([h, q @ h @ q.conj().T] * (bsz // 2))
    vl = np.stack([v, q @ v @ q.conj().T] * (bsz // 2))
    hs = [np.stack([h + 0.3 * np.diag(rng.normal(size=width)) for _ in range(bsz)])]
    vs = [np.stack([np.eye(width) * -1.0, q.conj().T * -1.0] * (bsz // 2)), -np.eye(width) + 0 * hl]
    source = np.where(np.arange(bsz) % 2 == 1, np.arange(bsz) - 1, -1)
    args = (hl, vl, hs, vs, hl, vl)
    res = transmission_batched(*args, energy=0.4, lead_map=LeadMap(source, q))
    assert res.n_mapped == bsz // 2 and res.n_fallback == 0
    assert_matches(res, args, 0.4)
    # distinct right lead: u_right is required
    hr, vr = hl + 0.0, vl + 0.0
    hr[:, 0, 0] += 0.1
    args2 = (hl, vl, hs, [vs[0], vs[1]], hr, vr)
    with pytest.raises(ValueError, match="lead_map.u_right"):
        transmission_batched(*args2, energy=0.4, lead_map=LeadMap(source, q))
    res2 = transmission_batched(*args2, energy=0.4, lead_map=LeadMap(source, q, u_right=q))
    assert res2.n_mapped == bsz // 2  # the right lead of odd elements is not U-related: solved
    assert_matches(res2, args2, 0.4)


# ---------------------------------------------------------------- validation


def good_args(bsz=2):
    return chain_batch([0.0] * bsz)


@pytest.mark.parametrize("mutate,match", [
    (lambda a: (a[0][0],) + a[1:], "h_left must be a 3-D"),
    (lambda a: a[:1] + (a[1][:1],) + a[2:], "v_left has batch size 1"),
    (lambda a: a[:2] + ([a[2][0], a[2][1][:1]],) + a[3:], r"h_slab\[1\] has batch size"),
    (lambda a: a[:2] + ([a[2][0], a[2][1] + 1j * np.array([[[0.0]], [[1.0]]])],) + a[3:],
     r"h_slab\[1\] must be Hermitian"),
    (lambda a: a[:3] + (a[3][:2],) + a[4:], "v_slab must have M\\+1 = 3"),
    (lambda a: a[:3] + ([a[3][0], np.ones((2, 1, 2)), a[3][2]],) + a[4:], r"v_slab\[1\] must have shape"),
    (lambda a: a[:4] + (a[4] * np.nan,) + a[5:], "h_right contains NaN"),
    (lambda a: a[:5] + (np.ones((2, 2, 2)),), "v_right must have shape"),
    (lambda a: a[:2] + (np.zeros((2, 1, 1)),) + a[3:], "h_slab must be a sequence"),
])
def test_input_errors_name_the_argument(mutate, match):
    with pytest.raises(ValueError, match=match):
        transmission_batched(*mutate(good_args()))


def test_option_errors():
    a = good_args()
    with pytest.raises(ValueError, match="energy must be real"):
        transmission_batched(*a, energy=0.1 + 1e-3j)
    with pytest.raises(ValueError, match="prop_tol must be a positive"):
        transmission_batched(*a, prop_tol=-1.0)
    with pytest.raises(ValueError, match="unitarity_tol must be a positive"):
        transmission_batched(*a, unitarity_tol=float("nan"))
    with pytest.raises(ValueError, match="lead_map must be a LeadMap"):
        transmission_batched(*a, lead_map=(np.array([-1, 0]), np.eye(1)))
    with pytest.raises(ValueError, match="lead_map.source must be an integer array of shape"):
        transmission_batched(*a, lead_map=LeadMap([-1, 0, 1], np.eye(1)))
    with pytest.raises(ValueError, match="must point to elements that are solved"):
        transmission_batched(*chain_batch([0.0] * 3), lead_map=LeadMap([1, 2, -1], np.eye(1)))
    with pytest.raises(ValueError, match="lead_map.u_left must be unitary"):
        transmission_batched(*a, lead_map=LeadMap([-1, 0], 2 * np.eye(1)))
    with pytest.raises(ValueError, match="decimation must be an integer"):
        transmission_batched(*a, decimation=-1)
    with pytest.raises(ValueError, match="decimation must be an integer"):
        lead_self_energies_batched(a[0], a[1], decimation=1.5)
    with pytest.raises(ValueError, match="fallback must be True or False"):
        transmission_batched(*a, fallback="yes")
    with pytest.raises(ValueError, match="v must have the shape of h"):
        lead_self_energies_batched(np.zeros((2, 2, 2)), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="blocks must contain at least one"):
        stack_blocks([])
    with pytest.raises(ValueError, match=r"blocks\[1\] has 1 slab layers"):
        hl, vl = np.zeros((1, 1)), -np.ones((1, 1))
        stack_blocks([(hl, vl, [hl, hl], [vl] * 3, hl, vl), (hl, vl, [hl], [vl] * 2, hl, vl)])


def test_batch_size_for():
    assert batch_size_for(1) == 256
    assert batch_size_for(36) == 64
    sizes = [batch_size_for(n) for n in (36, 100, 200, 400, 2000)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    assert batch_size_for(100, memory_bytes=1e9, max_batch=1000) == int(1e9 // (12 * 16 * 200 ** 2))
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            batch_size_for(bad)
    with pytest.raises(ValueError, match="max_batch"):
        batch_size_for(10, max_batch=0)
