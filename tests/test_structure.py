"""Tests of tbmto.structure: stacking geometry, disorder, nested lengths, textures, extxyz round trip."""

import math

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from tbmto.io import read_structure, write_structure
from tbmto.structure import (
    REGION_LEFT,
    REGION_RIGHT,
    REGION_SLAB,
    _occupation,
    build_stack,
    domain_wall,
    increment_rng,
    lateral_cell,
    layer_translation,
    set_magnetization,
    slab_rng,
    truncate,
    walker_profile,
)

A = 3.548


def test_exact_minority_count():
    for L, x in [(7, 0.2), (5, 0.35), (3, 0.45)]:
        atoms = build_stack(supercell=(3, 3), layers=L, lattice_constant=A,
                            composition={"Ni": 1 - x, "Fe": x})
        slab = atoms.arrays["region"] == REGION_SLAB
        sym = np.array(atoms.get_chemical_symbols())
        n = int(slab.sum())
        assert n == 9 * L == atoms.info["n_slab_atoms"]
        assert int((sym[slab] == "Fe").sum()) == math.floor(x * n + 0.5)
        assert set(sym[~slab]) == {"Cu"}


def test_three_species_counts():
    atoms = build_stack(supercell=(4, 4), layers=5, lattice_constant=A,
                        composition={"Ni": 0.5, "Fe": 0.3, "Co": 0.2})
    sym = np.array(atoms.get_chemical_symbols())[atoms.arrays["region"] == REGION_SLAB]
    assert (sym == "Fe").sum() == 24 and (sym == "Co").sum() == 16 and (sym == "Ni").sum() == 40


def test_reproducible_and_config_dependent():
    kw = dict(supercell=(3, 3), layers=6, lattice_constant=A, delta=0.05, seed=7, system="Py")
    a1 = build_stack(config=0, **kw)
    a2 = build_stack(config=0, **kw)
    a3 = build_stack(config=1, **kw)
    a4 = build_stack(config=0, **{**kw, "system": "Py2"})
    assert a1.get_chemical_symbols() == a2.get_chemical_symbols()
    np.testing.assert_array_equal(a1.positions, a2.positions)
    assert a1.get_chemical_symbols() != a3.get_chemical_symbols()
    assert not np.allclose(a1.positions, a3.positions)
    assert a1.get_chemical_symbols() != a4.get_chemical_symbols()
    # occupation independent of delta (separate random streams)
    a5 = build_stack(config=0, **{**kw, "delta": 0.0})
    assert a5.get_chemical_symbols() == a1.get_chemical_symbols()


def test_rms_displacement_and_ideal_leads():
    delta = 0.08
    kw = dict(supercell=(10, 10), layers=20, lattice_constant=A, composition={"Ni": 1.0})
    ideal = build_stack(delta=0.0, **kw)
    disp = build_stack(delta=delta, **kw)
    u = disp.positions - ideal.positions
    np.testing.assert_array_equal(disp.arrays["ideal_positions"], ideal.positions)
    slab = ideal.arrays["region"] == REGION_SLAB
    n = slab.sum()  # 2000 atoms → relative standard error of <|u|²> ≈ sqrt(2/(3n)) ≈ 1.8 %
    rms = math.sqrt(np.mean(np.sum(u[slab] ** 2, axis=1)))
    assert abs(rms / delta - 1) < 2 * math.sqrt(2 / (3 * n))  # 4 σ of rms/Δ (σ ≈ ½·1.8 %)
    # isotropic: every Cartesian component has variance Δ²/3 (σ of each std ≈ 1.6 %)
    np.testing.assert_allclose(np.std(u[slab], axis=0), delta / math.sqrt(3), rtol=0.065)
    np.testing.assert_allclose(np.mean(u[slab], axis=0), 0.0, atol=4 * delta / math.sqrt(3 * n))
    assert np.all(u[~slab] == 0.0)


@pytest.mark.parametrize("direction,spacing,area", [
    ("001", A / 2, A ** 2 / 2),
    ("111", A / math.sqrt(3), math.sqrt(3) / 4 * A ** 2),
])
def test_geometry(direction, spacing, area):
    atoms = build_stack(direction=direction, supercell=(2, 3), layers=6, lattice_constant=A,
                        composition={"Ni": 1.0}, lead_layers=3)
    assert len(atoms) == 6 * (6 + 2 * 3)
    assert atoms.info["layer_spacing_angstrom"] == pytest.approx(spacing)
    cell2d = np.array(atoms.info["cell2d"])
    assert abs(np.cross(cell2d[0], cell2d[1])[2]) == pytest.approx(6 * area)
    np.testing.assert_allclose(atoms.cell[:2], cell2d)
    assert tuple(atoms.pbc) == (True, True, False)
    z = atoms.positions[:, 2]
    layer = atoms.arrays["layer"]
    np.testing.assert_allclose(z, (layer + 3) * spacing, atol=1e-12)
    assert layer.min() == -3 and layer.max() == 8
    reg = atoms.arrays["region"]
    assert np.all(reg[layer < 0] == REGION_LEFT) and np.all(reg[layer >= 6] == REGION_RIGHT)
    # fcc: 12 nearest neighbours at a/√2 for every atom away from the z ends
    big = build_stack(direction=direction, supercell=(3, 3), layers=4, lattice_constant=A,
                      composition={"Ni": 1.0})
    i, d = neighbor_list("id", big, A / math.sqrt(2) * 1.01)
    np.testing.assert_allclose(d, A / math.sqrt(2), rtol=1e-12)
    inner = np.abs(big.arrays["layer"] - 1.5) < 3
    assert np.all(np.bincount(i, minlength=len(big))[inner] == 12)
    # second shell at a: 6 neighbours
    i2, d2 = neighbor_list("id", big, A * 1.01)
    assert np.all(np.bincount(i2[d2 > A * 0.9], minlength=len(big))[inner] == 6)


def test_layer_translation_maps_layers():
    for direction in ("001", "111"):
        atoms = build_stack(direction=direction, supercell=(1, 1), layers=5, lattice_constant=A,
                            composition={"Ni": 1.0}, lead_layers=0)
        t = layer_translation(direction, A)
        cell2d = lateral_cell(direction, A)
        pos = atoms.positions
        for k in range(4):
            diff = pos[k + 1] - pos[k] - t
            frac = np.linalg.lstsq(cell2d[:, :2].T, diff[:2], rcond=None)[0]
            assert abs(diff[2]) < 1e-12
            np.testing.assert_allclose(frac, np.round(frac), atol=1e-12)


def test_uniform_and_walls():
    atoms = build_stack(supercell=(1, 1), layers=30, lattice_constant=A, composition={"Ni": 1.0},
                        magnetization=(0, 0, 2))
    np.testing.assert_allclose(atoms.arrays["magmom_dir"], [[0, 0, 1]] * len(atoms))
    b = set_magnetization(atoms, (1, 1, 0))
    np.testing.assert_allclose(b.arrays["magmom_dir"], [[2 ** -0.5, 2 ** -0.5, 0]] * len(b))
    np.testing.assert_allclose(atoms.arrays["magmom_dir"][:, 2], 1.0)  # original untouched
    z = atoms.positions[:, 2]
    c, w = 20.0, 5.0
    f, g = 1 / np.cosh((z - c) / w), -np.tanh((z - c) / w)
    neel = domain_wall(atoms, "neel", center=c, width=w).arrays["magmom_dir"]
    np.testing.assert_allclose(neel, np.stack([f, 0 * f, g], 1), atol=1e-14)
    rot = domain_wall(atoms, "rotated_neel", center=c, width=w).arrays["magmom_dir"]
    np.testing.assert_allclose(rot, np.stack([g, 0 * f, f], 1), atol=1e-14)
    bloch = domain_wall(atoms, "bloch", center=c, width=w).arrays["magmom_dir"]
    np.testing.assert_allclose(bloch, np.stack([g, f, 0 * f], 1), atol=1e-14)
    # head-to-head: +z far left, −z far right; perpendicular at the centre
    assert neel[0, 2] > 0.99 and neel[-1, 2] < -0.99
    fc, gc = walker_profile(np.array([c]), c, w)
    assert fc[0] == 1.0 and gc[0] == 0.0
    # default centre = middle of the slab
    d = domain_wall(atoms, "neel", width=w).arrays["magmom_dir"]
    slab = atoms.arrays["region"] == REGION_SLAB
    assert abs(np.sum(d[slab, 2])) < 1e-9


def test_extxyz_round_trip(tmp_path):
    atoms = build_stack(direction="111", supercell=(2, 2), layers=4, lattice_constant=A,
                        delta=0.05, system="Py", config=3)
    atoms = domain_wall(atoms, "bloch", width=3.0)
    path = tmp_path / "sub" / "s.extxyz"
    write_structure(atoms, path)
    assert [p.name for p in path.parent.iterdir()] == ["s.extxyz"]
    back = read_structure(path)
    assert back.info == atoms.info
    assert back.info["direction"] == "111" and back.info["composition"] == {"Ni": 0.8, "Fe": 0.2}
    assert back.get_chemical_symbols() == atoms.get_chemical_symbols()
    np.testing.assert_allclose(back.positions, atoms.positions, atol=1e-7)
    np.testing.assert_allclose(back.cell[:], atoms.cell[:], atol=1e-7)
    np.testing.assert_allclose(back.arrays["magmom_dir"], atoms.arrays["magmom_dir"], atol=1e-7)
    np.testing.assert_array_equal(back.arrays["layer"], atoms.arrays["layer"])
    np.testing.assert_array_equal(back.arrays["region"], atoms.arrays["region"])
    np.testing.assert_allclose(back.arrays["ideal_positions"], atoms.arrays["ideal_positions"], atol=1e-7)
    assert tuple(back.pbc) == (True, True, False)


@pytest.mark.parametrize("kwargs,name", [
    ({"layers": 0}, "layers"),
    ({"layers": 2.5}, "layers"),
    ({"supercell": (0, 3)}, "supercell"),
    ({"supercell": (2,)}, "supercell"),
    ({"supercell": (2.0, 2)}, "supercell"),
    ({"direction": "110"}, "direction"),
    ({"composition": {"Ni": 0.7, "Fe": 0.2}}, "sum to 1"),
    ({"composition": {"Xx": 1.0}}, "composition: unknown element 'Xx'"),
    ({"lead": "Qq"}, "lead: unknown element 'Qq'"),
    ({"delta": -0.1}, "delta"),
    ({"lattice_constant": 0.0}, "lattice_constant"),
    ({"lead_layers": -1}, "lead_layers"),
    ({"seed": -1}, "seed"),
    ({"magnetization": (0, 0, 0)}, "magnetization"),
])
def test_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_stack(**kwargs)


def test_bad_texture_input():
    atoms = build_stack(supercell=(1, 1), layers=2, lattice_constant=A)
    with pytest.raises(ValueError, match="m must be non-zero"):
        set_magnetization(atoms, (0, 0, 0))
    with pytest.raises(ValueError, match="kind"):
        domain_wall(atoms, "helical")
    with pytest.raises(ValueError, match="width"):
        domain_wall(atoms, "neel", width=0.0)


def _assert_same_stack(got, ref):
    """Exact equality of two stacks (positions to 1e-12 Å)."""
    assert got.get_chemical_symbols() == ref.get_chemical_symbols()
    np.testing.assert_allclose(got.positions, ref.positions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.arrays["ideal_positions"], ref.arrays["ideal_positions"], rtol=0, atol=1e-12)
    for key in ("layer", "region", "magmom_dir"):
        np.testing.assert_array_equal(got.arrays[key], ref.arrays[key])
    assert got.arrays.keys() == ref.arrays.keys()
    np.testing.assert_array_equal(got.cell[:], ref.cell[:])
    assert tuple(got.pbc) == tuple(ref.pbc)
    assert got.info == ref.info


@pytest.mark.parametrize("direction,supercell,lengths", [
    ("001", (2, 2), (3, 8)),
    ("001", (3, 3), (4, 7, 10)),
    ("111", (2, 2), (5, 6)),
    ("111", (3, 3), (2, 5, 9)),
])
def test_nested_prefix_equals_shorter_stack(direction, supercell, lengths):
    kw = dict(direction=direction, supercell=supercell, lattice_constant=A, delta=0.07, seed=3,
              config=2, system="Py", lead_layers=3, magnetization=(1.0, 0.0, 1.0))
    full = build_stack(layers=lengths[-1], nested_lengths=lengths, **kw)
    assert full.info["nested_lengths"] == list(lengths)
    for i, L in enumerate(lengths):
        ref = build_stack(layers=L, nested_lengths=lengths[:i + 1], **kw)
        got = truncate(full, L)
        _assert_same_stack(got, ref)
        assert got.info["slab_layers"] == L and got.info["nested_lengths"] == list(lengths[:i + 1])
        assert got.info["n_slab_atoms"] == L * supercell[0] * supercell[1]
        assert got.cell[2, 2] == pytest.approx((L + 6) * full.info["layer_spacing_angstrom"], abs=1e-12)
    # alloy and thermal disorder are really there, and the input is not modified
    sym = np.array(full.get_chemical_symbols())
    assert {"Ni", "Fe"} <= set(sym[full.arrays["region"] == REGION_SLAB])
    assert np.abs(full.positions - full.arrays["ideal_positions"]).max() > 0.01
    assert full.info["slab_layers"] == lengths[-1] and full.arrays["layer"].max() == lengths[-1] + 2


def test_nested_increment_counts_and_generators():
    comp = {"Ni": 0.65, "Fe": 0.2, "Co": 0.15}
    lengths = (3, 8, 12)
    kw = dict(supercell=(3, 3), lattice_constant=A, composition=comp, delta=0.05, seed=11, config=1,
              system="NiFeCo")
    atoms = build_stack(layers=12, nested_lengths=lengths, **kw)
    sym = np.array(atoms.get_chemical_symbols())
    layer = atoms.arrays["layer"]
    expected = {(0, 3): (5, 4), (3, 8): (9, 7), (8, 12): (7, 5)}  # (Fe, Co) = floor(x N_inc + 1/2)
    for (start, end), (n_fe, n_co) in expected.items():
        sites = (layer >= start) & (layer < end)
        n_inc = int(sites.sum())
        assert n_inc == 9 * (end - start)
        assert (math.floor(0.2 * n_inc + 0.5), math.floor(0.15 * n_inc + 0.5)) == (n_fe, n_co)
        assert int((sym[sites] == "Fe").sum()) == n_fe and int((sym[sites] == "Co").sum()) == n_co
        # the increment's disorder is increment_rng(seed, system, start, end, config)
        rng_occ, rng_disp = increment_rng(11, "NiFeCo", start, end, 1)
        assert list(sym[sites]) == _occupation(comp, n_inc, rng_occ)
        u = rng_disp.normal(0.0, 0.05 / math.sqrt(3.0), size=(n_inc, 3))
        np.testing.assert_array_equal(atoms.positions[sites], atoms.arrays["ideal_positions"][sites] + u)
    # per increment, not whole-slab rounding: 5 + 9 + 7 = 21 Fe, whereas floor(0.2 * 108 + 1/2) = 22
    assert int((sym == "Fe").sum()) == 21 and math.floor(0.2 * atoms.info["n_slab_atoms"] + 0.5) == 22
    # the nested draw differs from the plain one (separate streams)
    plain = build_stack(layers=12, **kw)
    assert plain.get_chemical_symbols() != atoms.get_chemical_symbols()
    assert "nested_lengths" not in plain.info


def test_nested_prefix_unchanged_by_appended_length():
    kw = dict(supercell=(2, 2), lattice_constant=A, delta=0.06, seed=5, config=4, system="Py")
    short = build_stack(layers=8, nested_lengths=(4, 8), **kw)
    long = build_stack(layers=12, nested_lengths=(4, 8, 12), **kw)
    for atoms in (short, long):
        assert atoms.info["slab_layers"] == atoms.info["nested_lengths"][-1]
    # left buffer + first 8 slab layers: the first 4 * (4 + 8) atoms of both stacks
    n = 4 * (4 + 8)
    assert np.all(short.arrays["layer"][:n] < 8) and np.all(long.arrays["layer"][:n] < 8)
    assert short.arrays["layer"][n] >= 8 and long.arrays["layer"][n] >= 8
    assert short.get_chemical_symbols()[:n] == long.get_chemical_symbols()[:n]
    np.testing.assert_array_equal(short.positions[:n], long.positions[:n])
    _assert_same_stack(truncate(long, 8), short)
    # a different increment [4, 12) does change layers 4..7: the draw depends on the increment
    other = build_stack(layers=12, nested_lengths=(4, 12), **kw)
    np.testing.assert_array_equal(other.positions[:4 * 8], long.positions[:4 * 8])
    assert not np.array_equal(other.positions[4 * 8:n], long.positions[4 * 8:n])


def test_nested_occupation_independent_of_delta():
    kw = dict(supercell=(3, 3), layers=9, lattice_constant=A, seed=2, system="Py", nested_lengths=(2, 5, 9))
    a0 = build_stack(delta=0.0, **kw)
    a1 = build_stack(delta=0.1, **kw)
    assert a0.get_chemical_symbols() == a1.get_chemical_symbols()
    slab = a0.arrays["region"] == REGION_SLAB
    assert np.all(np.abs(a1.positions - a0.positions)[slab].max(axis=1) > 0)
    np.testing.assert_array_equal(a1.arrays["ideal_positions"], a0.positions)


def test_plain_stack_uses_slab_rng():
    """nested_lengths=None: one slab_rng draw for the whole slab, no nested_lengths info key."""
    comp = {"Ni": 0.8, "Fe": 0.2}
    atoms = build_stack(supercell=(2, 3), layers=5, lattice_constant=A, delta=0.04, seed=9, config=2,
                        system="Py", nested_lengths=None)
    assert "nested_lengths" not in atoms.info
    slab = atoms.arrays["region"] == REGION_SLAB
    rng_occ, rng_disp = slab_rng(9, "Py", 5, 2)
    assert list(np.array(atoms.get_chemical_symbols())[slab]) == _occupation(comp, 30, rng_occ)
    u = rng_disp.normal(0.0, 0.04 / math.sqrt(3.0), size=(30, 3))
    np.testing.assert_array_equal(atoms.positions[slab], atoms.arrays["ideal_positions"][slab] + u)


@pytest.mark.parametrize("direction", ["001", "111"])
def test_truncate_plain_stack_geometry(direction):
    kw = dict(direction=direction, supercell=(3, 3), lattice_constant=A, delta=0.05, seed=1)
    long = build_stack(layers=10, **kw)
    got = truncate(long, 6)
    ref = build_stack(layers=6, **kw)
    assert len(got) == len(ref) == 9 * (6 + 8)
    right = got.arrays["region"] == REGION_RIGHT
    ref_right = ref.arrays["region"] == REGION_RIGHT
    np.testing.assert_array_equal(right, ref_right)
    np.testing.assert_allclose(got.positions[right], ref.positions[right], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.arrays["ideal_positions"], ref.arrays["ideal_positions"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.arrays["layer"], ref.arrays["layer"])
    np.testing.assert_array_equal(got.arrays["region"], ref.arrays["region"])
    np.testing.assert_array_equal(got.cell[:], ref.cell[:])
    # moved atoms stay inside the lateral cell: fractional in-plane coordinates in [0, 1)
    cell2d = np.array(got.info["cell2d"])[:, :2]
    frac = np.linalg.solve(cell2d.T, got.arrays["ideal_positions"][right, :2].T)
    assert frac.min() > -1e-12 and frac.max() < 1 - 1e-9
    # left buffer and the first 6 slab layers are the long stack's atoms, unchanged
    kept = long.arrays["layer"] < 6
    np.testing.assert_array_equal(got.positions[~right], long.positions[kept])
    assert got.get_chemical_symbols()[:int(kept.sum())] == list(np.array(long.get_chemical_symbols())[kept])
    assert got.info["slab_layers"] == 6 and got.info["n_slab_atoms"] == 54
    assert "nested_lengths" not in got.info
    for L in (1, 10):
        assert truncate(long, L).info["slab_layers"] == L


def test_nested_round_trip(tmp_path):
    atoms = build_stack(direction="111", supercell=(2, 2), layers=7, lattice_constant=A, delta=0.05,
                        system="Py", nested_lengths=(3, 7))
    path = tmp_path / "nested.extxyz"
    write_structure(atoms, path)
    back = read_structure(path)
    assert back.info == atoms.info and back.info["nested_lengths"] == [3, 7]
    t_back, t_orig = truncate(back, 3), truncate(atoms, 3)
    assert t_back.info == t_orig.info and t_back.get_chemical_symbols() == t_orig.get_chemical_symbols()
    np.testing.assert_allclose(t_back.positions, t_orig.positions, atol=1e-7)
    np.testing.assert_allclose(t_back.arrays["ideal_positions"], t_orig.arrays["ideal_positions"], atol=1e-7)
    np.testing.assert_array_equal(t_back.arrays["layer"], t_orig.arrays["layer"])


@pytest.mark.parametrize("layers,nested", [
    (10, (6, 4, 10)),
    (10, (4, 4, 10)),
    (10, (4, 8)),
    (10, (4, 12)),
    (10, (4.0, 10)),
    (10, (True, 10)),
    (10, (0, 10)),
    (10, (-2, 10)),
    (10, ()),
    (10, 10),
    (10, "10"),
])
def test_bad_nested_lengths(layers, nested):
    with pytest.raises(ValueError, match="nested_lengths must be a strictly increasing sequence of positive "
                                         "integers ending with layers=10, got"):
        build_stack(supercell=(1, 1), layers=layers, nested_lengths=nested)


def test_bad_truncate_length():
    nested = build_stack(supercell=(1, 1), layers=8, nested_lengths=(4, 8))
    for L in (6, 0, 9, 4.0, True):
        with pytest.raises(ValueError, match=r"L must be one of the nested lengths \[4, 8\]"):
            truncate(nested, L)
    plain = build_stack(supercell=(1, 1), layers=8)
    for L in (0, 9, -1, 2.5, True):
        with pytest.raises(ValueError, match=r"L must be an integer in \[1, 8\]"):
            truncate(plain, L)


def test_intermixed_interface_layers_are_exact_50_50():
    atoms = build_stack(direction="111", supercell=(2, 2), layers=6, lattice_constant=3.6, lead="Cu",
                        composition={"Co": 1.0}, system="CuCo", intermixed_layers=1, config=1)
    layer, region = np.asarray(atoms.arrays["layer"]), np.asarray(atoms.arrays["region"])
    sym = np.array(atoms.get_chemical_symbols())
    for ell in range(6):
        s = sym[(region == 1) & (layer == ell)]
        want = {"Co": 2, "Cu": 2} if ell in (0, 5) else {"Co": 4}
        assert dict(zip(*np.unique(s, return_counts=True))) == want, ell
    assert atoms.info["intermixed_layers"] == 1
    again = build_stack(direction="111", supercell=(2, 2), layers=6, lattice_constant=3.6, lead="Cu",
                        composition={"Co": 1.0}, system="CuCo", intermixed_layers=1, config=1)
    assert list(again.get_chemical_symbols()) == list(sym)
    for bad, match in ((dict(intermixed_layers=4), "intermixed_layers"),
                       (dict(intermixed_layers=1, nested_lengths=[2, 6]), "nested")):
        with pytest.raises(ValueError, match=match):
            build_stack(direction="111", supercell=(1, 1), layers=6, lattice_constant=3.6, lead="Cu",
                        composition={"Co": 1.0}, **bad)
