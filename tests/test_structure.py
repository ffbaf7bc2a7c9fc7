"""Tests of tbmto.structure: stacking geometry, disorder, textures, extxyz round trip."""

import math

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from tbmto.structure import (
    REGION_LEFT,
    REGION_RIGHT,
    REGION_SLAB,
    build_stack,
    domain_wall,
    lateral_cell,
    layer_translation,
    read_structure,
    set_magnetization,
    walker_profile,
    write_structure,
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
