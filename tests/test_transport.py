"""Tests of tbmto.layers, tbmto.transport and tbmto.observables on the published Cu parameters.

The magnetic species used here ("Ni") is FICTITIOUS test data: the Cu parameters of
tests/data/cu_rslmto.json with spin-split d centres (C_d↑ − 0.03 Ry, C_d↓ + 0.19 Ry, so the
minority d band reaches E_F as in Ni) and an assumed moment of 0.6 μB. It exercises the spin
and SOC machinery; it is not a model of real Ni.
"""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import central_difference_damping

from tbmto.layers import build_layered_system, kmesh, principal_layer_sizes, spinful
from tbmto.lmto.potential_functions import onsite_p
from tbmto.observables import (
    E2_OVER_H_SIEMENS,
    area_resistance_ohm_m2,
    conductance_per_area,
    free_electron_sharvin_per_area,
    gilbert_alpha,
)
from tbmto.potentials import load
from tbmto.structure import build_stack, domain_wall, set_magnetization
from tbmto.transport import compute as _compute
from tbmto.wfm import smatrix


def compute(*args, **kwargs):
    """``tbmto.transport.compute`` with the orthogonal SOC form: these tests use parameter-only
    species (the published Cu parameters and a fictitious spin-split Cu), for which the exact
    single-site form (the default) has no spherical potential to solve."""
    kwargs.setdefault("soc_form", "orthogonal")
    return _compute(*args, **kwargs)

CU = Path(__file__).parent / "data" / "cu_rslmto.json"
A = 3.614


@pytest.fixture(scope="module")
def pot_cu():
    return load(CU, linearisation="band_centre")


@pytest.fixture(scope="module")
def pot_mag_soc3(tmp_path_factory, spin_split_cu):
    cu = json.loads(CU.read_text())
    p = tmp_path_factory.mktemp("pot") / "magnet3.json"
    p.write_text(json.dumps(spin_split_cu(cu, xi_scale=3.0)))
    return load(CU, p, linearisation="band_centre")


def _stack(direction="001", supercell=(1, 1), layers=2, comp=None, **kw):
    kw.setdefault("lead_layers", 2)
    return build_stack(direction, supercell, layers=layers, lattice_constant=A,
                       composition=comp or {"Cu": 1.0}, **kw)


# ---------------------------------------------------------------- layers / k mesh


def test_principal_layer_sizes():
    assert principal_layer_sizes(9, 2, 6) == [2, 2, 2, 3]  # remainder merged into the last slab PL
    assert principal_layer_sizes(9, 2, 2) == [2, 3, 2, 2]
    assert principal_layer_sizes(7, 1, 3) == [1] * 7
    with pytest.raises(ValueError, match="interaction range"):
        principal_layer_sizes(1, 2, 0)


@pytest.mark.parametrize("direction,supercell,n_pl", [("001", (2, 1), 2), ("111", (1, 2), 1),
                                                       ("111", (2, 2), 1)])
def test_layers_range_and_lead_consistency(pot_cu, direction, supercell, n_pl):
    """PL thickness from the 2-shell range; perfect Cu: the first/last buffer PL blocks and
    their couplings to the leads equal the ideal-lead blocks element by element (same atom
    order, same Bloch gauge)."""
    atoms = _stack(direction, supercell, layers=3, lead_layers=4)
    system = build_layered_system(atoms)
    assert system.n_pl_layers == n_pl
    assert sorted(np.concatenate(system.pl_atoms).tolist()) == list(range(len(atoms)))
    layer = atoms.arrays["layer"]
    assert np.all(layer[system.left_lead_atoms] < -4 + n_pl)
    assert np.all(layer[system.right_lead_atoms] > 6 - n_pl)
    k = kmesh(system.cell2d, (3, 3))[4]
    h, v, (hl, vl), (hr, vr) = system.salpha_blocks(k)
    for blk in h:
        np.testing.assert_allclose(blk, blk.conj().T, atol=1e-13)
    np.testing.assert_allclose(h[0], hl, atol=1e-10)
    np.testing.assert_allclose(h[-1], hr, atol=1e-10)
    np.testing.assert_allclose(v[0], vl, atol=1e-10)
    np.testing.assert_allclose(v[-1], vr, atol=1e-10)
    # interior PLs of the perfect crystal: same spectrum as the lead PL
    same = [blk for blk in h[1:-1] if blk.shape == hl.shape]
    assert same
    for blk in same:
        np.testing.assert_allclose(np.linalg.eigvalsh(blk), np.linalg.eigvalsh(hl), atol=1e-9)


def test_spinful_blocks_are_spinless_blocks_times_identity(pot_cu):
    atoms = _stack("111", (2, 1), layers=2, delta=0.1, lead_layers=2)
    system = build_layered_system(atoms)
    k = kmesh(system.cell2d, (2, 2))[3]
    zero = np.zeros((len(atoms), 18, 18))
    b = system.hamiltonian_blocks(k, zero, zero[system.left_lead_atoms], zero[system.right_lead_atoms])
    h, v, (hl, vl), _ = system.salpha_blocks(k)
    sizes = [len(system.left_lead_atoms)] + [len(a) for a in system.pl_atoms] + [len(system.right_lead_atoms)]
    for x, y, n in zip(b.h_slab, h, sizes[1:-1]):
        np.testing.assert_array_equal(x, spinful(y, n, n))
    for i, (x, y) in enumerate(zip(b.v_slab, v)):
        np.testing.assert_array_equal(x, spinful(y, sizes[i], sizes[i + 1]))
    np.testing.assert_array_equal(b.h_left, spinful(hl, sizes[0], sizes[0]))
    np.testing.assert_array_equal(b.v_left, spinful(vl, sizes[0], sizes[0]))


@pytest.mark.parametrize("direction", ["001", "111"])
def test_lead_blocks_reproduce_bulk_salpha(direction):
    """h(k∥) + v e^{ik·T_PL} + v† e^{−ik·T_PL} of the ideal lead equals the bulk S^α(k) of the
    crystal with cell (A₁, A₂, T_PL) from tbmto.lmto (same cutoff and cluster radius)."""
    from tbmto.lmto.structure_constants import bloch_salpha

    atoms = _stack(direction, (1, 1), layers=1)
    system = build_layered_system(atoms)
    w = (3 / (16 * math.pi)) ** (1 / 3) * A
    cell = np.vstack([system.cell2d, system.t_pl])
    basis = atoms.positions[system.left_lead_atoms]
    ks = [(k2, kz) for k2 in kmesh(system.cell2d, (2, 3)) for kz in (0.0, 0.4, 1.1)]
    k3 = np.array([k2 + np.array([0.0, 0.0, kz]) for k2, kz in ks])
    ref = bloch_salpha(cell, basis, k3, w, cutoff=2.85 * w, cluster_radius=3.8 * w)
    for (k2, _), k, r in zip(ks, k3, ref):
        _, _, (hl, vl), _ = system.salpha_blocks(k2)
        ph = np.exp(1j * k @ system.t_pl)
        np.testing.assert_allclose(hl + vl * ph + vl.conj().T / ph, r, atol=1e-9)


def test_displacements_keep_pair_set_and_ranges(pot_cu):
    """Neighbour lists follow ideal_positions: the same pairs and PLs for any Δ, and S^α (hence
    G) is continuous as Δ → 0."""
    kw = dict(comp={"Cu": 1.0}, layers=4, seed=5)
    ideal = build_layered_system(_stack("001", (2, 1), delta=0.0, **kw))
    big = build_layered_system(_stack("001", (2, 1), delta=0.4, **kw))
    assert big.n_pairs == ideal.n_pairs and big.n_pl_layers == ideal.n_pl_layers == 2
    assert [len(p) for p in big.pl_atoms] == [len(p) for p in ideal.pl_atoms]
    g0 = compute(_stack("001", (2, 1), delta=0.0, **kw), pot_cu, kmesh=(2, 2), progress=False)
    g1 = compute(_stack("001", (2, 1), delta=1e-6, **kw), pot_cu, kmesh=(2, 2), progress=False)
    assert abs(g1.G_e2h - g0.G_e2h) < 1e-4
    assert abs(g0.G_e2h - g0.n_modes_left) < 1e-8


def test_kmesh_folding():
    prim = np.array(build_stack("111", (1, 1), layers=1, lattice_constant=A).info["cell2d"])
    sc = prim * 3
    k1 = kmesh(prim, (6, 6))
    k3 = kmesh(sc, (2, 2))
    folded = (k1 @ sc.T) / (2 * np.pi)  # fractional coordinates in the supercell BZ
    red = np.mod(folded + 1e-9, 1.0) - 1e-9
    ref = (k3 @ sc.T) / (2 * np.pi)
    # every 1×1 point folds onto a supercell mesh point, each one 9 times
    dist = np.abs(red[:, None, :] - ref[None, :, :]).max(axis=2)
    hits = np.argmin(dist, axis=1)
    assert np.all(dist[np.arange(len(k1)), hits] < 1e-9)
    assert np.all(np.bincount(hits, minlength=4) == 9)
    with pytest.raises(ValueError, match="kmesh"):
        kmesh(prim, (0, 2))


# ---------------------------------------------------------------- perfect Cu


@pytest.mark.parametrize("direction", ["001", "111"])
def test_perfect_cu_is_sharvin_and_independent_of_L(pot_cu, direction):
    results = [compute(_stack(direction, layers=L), pot_cu, kmesh=(4, 4), progress=False)
               for L in (1, 3, 6)]
    for r in results:
        assert r.n_modes_left == r.n_modes_right
        assert abs(r.G_e2h - r.n_modes_left) < 1e-8
        assert abs(r.G_e2h - results[0].G_e2h) < 1e-8
        assert r.moment_muB == 0.0
    np.testing.assert_allclose(results[0].transmission_k, results[-1].transmission_k, atol=1e-8)


def _cu_free_electron():
    kf = (12 * math.pi ** 2) ** (1 / 3) / A  # 4 electrons per cubic cell, 1 per atom
    return free_electron_sharvin_per_area(kf)


@pytest.mark.parametrize("direction", ["001", "111"])
def test_cu_sharvin_per_area_coarse(pot_cu, direction):
    r = compute(_stack(direction, layers=1), pot_cu, kmesh=(10, 10), soc=False, progress=False)
    ref = _cu_free_electron()
    assert ref == pytest.approx(0.569, abs=2e-3)
    assert abs(r.sharvin_per_area_per_spin / ref - 1) < 0.08
    assert r.conductance_per_area / 2 == pytest.approx(r.sharvin_per_area_per_spin, rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["001", "111"])
def test_cu_sharvin_per_area_fine(pot_cu, direction):
    r = compute(_stack(direction, layers=1), pot_cu, kmesh=(64, 64), soc=False, progress=False)
    assert abs(r.sharvin_per_area_per_spin / _cu_free_electron() - 1) < 0.08


# ---------------------------------------------------------------- magnetic slab


def test_folding_1x1_vs_supercell(pot_mag):
    m = (1.0, 2.0, 3.0)
    kw = dict(comp={"Ni": 1.0}, layers=3, magnetization=m)
    r1 = compute(_stack("001", (1, 1), **kw), pot_mag, kmesh=(4, 4), damping=True, progress=False)
    r2 = compute(_stack("001", (2, 2), **kw), pot_mag, kmesh=(2, 2), damping=True, progress=False)
    assert r2.area_nm2 == pytest.approx(4 * r1.area_nm2, rel=1e-12)
    assert abs(r2.G_e2h / 4 - r1.G_e2h) < 1e-8
    assert abs(r2.n_modes_left / 4 - r1.n_modes_left) < 1e-12
    assert abs(r2.damping_T / 4 - r1.damping_T) < 1e-8
    assert r2.moment_muB == pytest.approx(4 * r1.moment_muB)
    assert r1.G_e2h < r1.n_modes_left - 0.1  # the magnet scatters


def test_folding_111_3x3(pot_mag):
    kw = dict(comp={"Ni": 1.0}, layers=2, magnetization=(1.0, 0.0, 0.0))
    r1 = compute(_stack("111", (1, 1), **kw), pot_mag, kmesh=(3, 3), progress=False)
    r3 = compute(_stack("111", (3, 3), **kw), pot_mag, kmesh=(1, 1), progress=False)
    assert abs(r3.G_e2h / 9 - r1.G_e2h) < 1e-8


def _spin_sub(x, n_row, n_col, s):
    return x.reshape(n_row, 2, 9, n_col, 2, 9)[:, s, :, :, s, :].reshape(9 * n_row, 9 * n_col)


def test_spin_channels_decouple_without_soc(pot_mag):
    atoms = _stack("001", (1, 1), layers=4, comp={"Ni": 1.0})
    system = build_layered_system(atoms)
    par = pot_mag.for_atoms(atoms.get_chemical_symbols())
    k = kmesh(system.cell2d, (3, 3))[1]
    args = (par["C"], par["sqrt_delta"], par["gamma"], par["xi"], atoms.arrays["magmom_dir"])
    P = onsite_p(0.0, *args, soc=False)
    b = system.hamiltonian_blocks(k, P, P[system.left_lead_atoms], P[system.right_lead_atoms])
    sizes = [len(system.left_lead_atoms)] + [len(a) for a in system.pl_atoms] + [len(system.right_lead_atoms)]
    for x, (nr, nc) in [(h, (n, n)) for h, n in zip(b.h_slab, sizes[1:-1])] + \
                       [(v, (sizes[i], sizes[i + 1])) for i, v in enumerate(b.v_slab)]:
        x6 = x.reshape(nr, 2, 9, nc, 2, 9)
        assert np.all(x6[:, 0, :, :, 1, :] == 0) and np.all(x6[:, 1, :, :, 0, :] == 0)
    full = smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right)
    nl = sizes[0]
    ts = []
    for s in (0, 1):
        r = smatrix(
            _spin_sub(b.h_left, nl, nl, s), _spin_sub(b.v_left, nl, nl, s),
            [_spin_sub(h, n, n, s) for h, n in zip(b.h_slab, sizes[1:-1])],
            [_spin_sub(v, sizes[i], sizes[i + 1], s) for i, v in enumerate(b.v_slab)],
            _spin_sub(b.h_right, nl, nl, s), _spin_sub(b.v_right, nl, nl, s),
        )
        ts.append(r.transmission())
    assert full.transmission() == pytest.approx(ts[0] + ts[1], abs=1e-10)
    assert abs(ts[0] - ts[1]) > 1e-3  # spin-split slab: the channels really differ
    # with SOC, spin-flip elements appear in the magnetic slab blocks
    Psoc = onsite_p(0.0, *args, soc=True)
    bs = system.hamiltonian_blocks(k, Psoc, Psoc[system.left_lead_atoms], Psoc[system.right_lead_atoms])
    x6 = bs.h_slab[1].reshape(sizes[2], 2, 9, sizes[2], 2, 9)
    assert np.abs(x6[:, 0, :, :, 1, :]).max() > 1e-4


def test_rotation_invariance_without_soc(pot_mag):
    atoms = _stack("001", (1, 1), layers=3, comp={"Ni": 1.0})
    rot = set_magnetization(atoms, (1.0, 1.0, 1.0))
    kw = dict(kmesh=(3, 3), progress=False, damping=True)
    a, b = compute(atoms, pot_mag, soc=False, **kw), compute(rot, pot_mag, soc=False, **kw)
    assert abs(a.G_e2h - b.G_e2h) < 1e-10
    assert abs(a.damping_T - b.damping_T) < 1e-9
    c, d = compute(atoms, pot_mag, soc=True, **kw), compute(rot, pot_mag, soc=True, **kw)
    assert abs(c.G_e2h - d.G_e2h) > 1e-4  # SOC couples m to the lattice (AMR-like)


def test_domain_wall_global_rotation_invariance_without_soc(pot_mag):
    """Non-collinear texture: rotating every moment of a Néel wall by one global rotation
    leaves G and T unchanged without SOC, and changes G with SOC."""
    atoms = domain_wall(_stack("001", (1, 1), layers=6, comp={"Ni": 1.0}), "neel", width=3.0)
    c, s = math.cos(0.7), math.sin(0.7)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    turned = atoms.copy()
    turned.arrays["magmom_dir"] = atoms.arrays["magmom_dir"] @ rot.T
    axis = np.array([0.0, 1.0, 0.0])  # ⊥ the mean of the Néel wall, which lies along x
    kw = dict(kmesh=(2, 2), progress=False, damping=True)
    a = compute(atoms, pot_mag, soc=False, damping_axis=axis, **kw)
    b = compute(turned, pot_mag, soc=False, damping_axis=rot @ axis, **kw)
    assert abs(a.G_e2h - b.G_e2h) < 1e-10
    assert abs(a.damping_T - b.damping_T) < 1e-9
    uniform = compute(set_magnetization(atoms, (1, 0, 0)), pot_mag, soc=False, **kw)
    assert abs(uniform.G_e2h - a.G_e2h) > 1e-3  # the wall scatters
    c_ = compute(atoms, pot_mag, soc=True, damping_axis=axis, **kw)
    d_ = compute(turned, pot_mag, soc=True, damping_axis=rot @ axis, **kw)
    assert abs(c_.G_e2h - d_.G_e2h) > 1e-5


def test_soc_with_zero_xi_is_no_soc(tmp_path, pot_mag, spin_split_cu):
    cu = json.loads(CU.read_text())
    both = spin_split_cu(cu)
    both["species"]["Ni"]["xi_Ry"] = [0.0, 0.0, 0.0]
    cu0 = copy.deepcopy(cu["species"]["Cu"])
    cu0["xi_Ry"] = [0.0, 0.0, 0.0]
    both["species"]["Cu"] = cu0
    p = tmp_path / "noxi.json"
    p.write_text(json.dumps(both))
    pot0 = load(p, linearisation="band_centre")
    atoms = _stack("001", (1, 1), layers=3, comp={"Ni": 1.0}, magnetization=(0.0, 1.0, 1.0))
    kw = dict(kmesh=(3, 3), progress=False, damping=True)
    with_soc = compute(atoms, pot0, soc=True, **kw)
    without = compute(atoms, pot0, soc=False, **kw)
    ref = compute(atoms, pot_mag, soc=False, **kw)  # ξ does not enter when soc=False
    assert abs(with_soc.G_e2h - without.G_e2h) < 1e-10
    assert abs(with_soc.damping_T - without.damping_T) < 1e-9
    assert abs(ref.G_e2h - without.G_e2h) < 1e-10


def test_damping_trace_matches_finite_difference(pot_mag_soc3):
    """Re Tr ∂S†∂S from the analytic dS equals that of a central difference of S under a rigid
    rotation of the slab moments only (leads, hence lead modes, unchanged)."""
    atoms = _stack("001", (2, 1), layers=3, comp={"Ni": 0.5, "Cu": 0.5}, delta=0.1,
                   magnetization=(0.0, 0.0, 1.0))
    res = compute(atoms, pot_mag_soc3, kmesh=(2, 2), damping=True, progress=False)
    axis = np.array(res.damping_axis)
    assert abs(axis @ [0, 0, 1]) < 1e-12
    system = build_layered_system(atoms)
    par = pot_mag_soc3.for_atoms(atoms.get_chemical_symbols())
    slab = atoms.arrays["region"] == 1

    def s_of(theta, k):
        m = atoms.arrays["magmom_dir"].copy()
        c, s = math.cos(theta), math.sin(theta)
        rot = c * m + s * np.cross(axis, m) + (1 - c) * np.outer(m @ axis, axis)
        m[slab] = rot[slab]
        P = onsite_p(0.0, par["C"], par["sqrt_delta"], par["gamma"], par["xi"], m)
        b = system.hamiltonian_blocks(k, P, P[system.left_lead_atoms], P[system.right_lead_atoms])
        return smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right).S

    t_fd = central_difference_damping(s_of, kmesh(system.cell2d, (2, 2)))
    assert res.n_modes_left > 0 and res.damping_T > 1e-3
    assert res.damping_T == pytest.approx(t_fd, rel=1e-5)


def test_damping_grows_with_L_only_with_soc_and_disorder(pot_mag_soc3):
    """Bulk Gilbert damping needs SOC: T(L) grows with L for a disordered magnet with SOC and
    not without (2 configurations averaged; ξ tripled to make the bulk term large)."""
    Ls = (2, 20)
    T = {True: np.zeros(2), False: np.zeros(2)}
    for seed in (1, 2):
        for n, L in enumerate(Ls):
            atoms = _stack("001", (2, 1), layers=L, comp={"Ni": 1.0}, delta=0.25, seed=seed)
            system = build_layered_system(atoms)
            for soc in (True, False):
                T[soc][n] += compute(atoms, pot_mag_soc3, kmesh=(2, 2), soc=soc, damping=True,
                                     progress=False, layered=system).damping_T / 2
    slope_soc = (T[True][1] - T[True][0]) / (Ls[1] - Ls[0])
    slope_nosoc = (T[False][1] - T[False][0]) / (Ls[1] - Ls[0])
    assert slope_soc > 0
    assert abs(slope_nosoc) < 0.2 * slope_soc


@pytest.mark.slow
def test_damping_slopes_clean_vs_disordered(pot_mag, pot_mag_soc3):
    """Clean magnet without SOC: T(L) has no linear growth (only interface spin pumping);
    with SOC and disorder T grows ∝ L (bulk Gilbert damping), averaged over 2 configurations."""
    Ls = np.array([2, 6, 10, 14])
    clean = [compute(_stack("001", (1, 1), layers=L, comp={"Ni": 1.0}), pot_mag, kmesh=(8, 8),
                     soc=False, damping=True, progress=False).damping_T for L in Ls]
    dis = []
    for L in Ls:
        vals = [compute(_stack("001", (2, 2), layers=L, comp={"Ni": 1.0}, delta=0.2, config=c),
                        pot_mag_soc3, kmesh=(3, 3), damping=True, progress=False).damping_T
                for c in (0, 1)]
        dis.append(np.mean(vals) / 4)  # per 1×1 cell
    s_clean = np.polyfit(Ls, clean, 1)[0]
    s_dis = np.polyfit(Ls, dis, 1)[0]
    assert s_dis > 0
    assert abs(s_clean) < 0.2 * s_dis


# ---------------------------------------------------------------- results, units, errors


def test_result_fields(pot_mag):
    atoms = _stack("001", (2, 1), layers=2, comp={"Ni": 0.5, "Cu": 0.5}, seed=3)
    r = compute(atoms, pot_mag, kmesh=(2, 1), progress=False)
    n_ni = sum(1 for s, reg in zip(atoms.get_chemical_symbols(), atoms.arrays["region"])
               if s == "Ni" and reg == 1)
    assert n_ni == 2 and r.moment_muB == pytest.approx(0.6 * n_ni)
    assert r.area_nm2 == pytest.approx(2 * A ** 2 / 2 / 100)
    assert r.n_k == 2 and r.kmesh == [2, 1] and math.isnan(r.damping_T) and math.isnan(r.alpha)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["damping_T"] is None and d["G_e2h"] == r.G_e2h and len(d["transmission_k"]) == 2
    assert r.pl_layers == 2 and r.n_principal_layers == 3


def test_observables_units():
    assert E2_OVER_H_SIEMENS == pytest.approx(3.874045864e-5, rel=1e-9)
    # 1 channel on 1 nm²: (e²/h)/1e-18 m² = 3.874e13 S/m² = 0.03874e15
    assert conductance_per_area(1.0, 1.0) == pytest.approx(0.03874045864, rel=1e-9)
    assert area_resistance_ohm_m2(2.0, 1.0) == pytest.approx(1e-18 / (2 * 3.874045864e-5), rel=1e-9)
    # α = g T / (4π M): T = 4π, M = 2 μB, g = 2 → α = 1
    assert gilbert_alpha(4 * math.pi, 2.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="moment_muB"):
        gilbert_alpha(1.0, 0.0)
    with pytest.raises(ValueError, match="area_nm2"):
        conductance_per_area(1.0, -1.0)


def test_compute_errors(pot_cu, pot_mag):
    atoms = _stack("001", layers=1)
    with pytest.raises(ValueError, match="kmesh"):
        compute(atoms, pot_cu, kmesh=(0, 2), progress=False)
    wrong_a = build_stack("001", (1, 1), layers=1, lattice_constant=3.5, composition={"Cu": 1.0})
    with pytest.raises(ValueError, match="lattice constant"):
        compute(wrong_a, pot_cu, kmesh=(1, 1), progress=False)
    fe = _stack("001", layers=1, comp={"Fe": 1.0})
    with pytest.raises(ValueError, match="available species"):
        compute(fe, pot_cu, kmesh=(1, 1), progress=False)
    ni = _stack("001", layers=1, comp={"Ni": 1.0})
    with pytest.raises(ValueError, match="perpendicular"):
        compute(ni, pot_mag, kmesh=(1, 1), damping=True, damping_axis=(0, 0, 1), progress=False)
    no_buffer = _stack("001", layers=2, comp={"Cu": 1.0}, lead_layers=0)
    with pytest.raises(ValueError, match="lead_layers"):
        compute(no_buffer, pot_cu, kmesh=(1, 1), progress=False)


def test_batched_path_equals_per_k_path(pot_mag):
    """1×1 cells without damping take the batched k∥ path by default (Caroli formula over
    stacked blocks): same G, per-k transmissions and channel counts as the per-k S-matrix path."""
    atoms = _stack("001", (1, 1), layers=4, comp={"Ni": 0.6, "Cu": 0.4}, seed=4, delta=0.05,
                   magnetization=(0.3, 0.0, 1.0))
    kw = dict(kmesh=(5, 4), soc=True, progress=False)
    auto = compute(atoms, pot_mag, **kw)
    per_k = compute(atoms, pot_mag, batched=False, **kw)
    assert auto.batched and not per_k.batched
    np.testing.assert_allclose(auto.transmission_k, per_k.transmission_k, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(auto.noise_k, per_k.noise_k, rtol=1e-9, atol=1e-12)
    assert 0.0 < auto.fano < 1.0
    assert (auto.n_modes_left, auto.n_modes_right) == (per_k.n_modes_left, per_k.n_modes_right)
    assert not compute(atoms, pot_mag, damping=True, **kw).batched
    with pytest.raises(ValueError, match="batched=True computes G only"):
        compute(atoms, pot_mag, damping=True, batched=True, **kw)
