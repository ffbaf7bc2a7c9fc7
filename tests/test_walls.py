"""Domain-wall response from the scattering matrix (tbmto.walls; seed Eqs. 71–78).

Checks: the rotation rates w_i = ∂θ_i/∂r_w reproduce the finite-difference ∂m/∂r_w of the Walker
profile; the pumping sign (a reflecting barrier moved by δX pushes n δX electrons into the lead
ahead of it, Brouwer PRB 58, R10135 (1998)); the analytic ∂S/∂r_w against central differences
of S with SOC; without SOC the three wall types are related by a global spin rotation, so G,
T_w and Π agree to round-off; translating a narrow wall by one or two layers in an infinite
ferromagnet (magnetic leads) leaves G, T_w and Π unchanged. (Between non-magnetic leads a clean
slab is not translation invariant: the two domains are Fabry–Pérot cavities whose lengths change
with r_w; disorder averages this out.)
"""

import math

import numpy as np
import pytest

from tbmto.model import MTOModel
from tbmto.structure import (REGION_LEFT, REGION_RIGHT, REGION_SLAB, WALL_KINDS, build_stack, domain_wall,
                             layer_spacing, wall_center, wall_rotation)
from tbmto.walls import WallResult, _weighted, compute_wall
from tbmto.wfm import smatrix

A = 3.61


def _stack(layers):
    return build_stack(supercell=(1, 1), layers=layers, lattice_constant=A, composition={"Ni": 1.0}, system="wall")


@pytest.mark.parametrize("kind", WALL_KINDS)
def test_rotation_rates_move_the_profile(kind):
    atoms = _stack(16)
    c, w, h = wall_center(atoms), 5.0, 1e-5
    axis, rate = wall_rotation(atoms, kind, c, w)
    m = domain_wall(atoms, kind, c, w).arrays["magmom_dir"]
    fd = (domain_wall(atoms, kind, c + h, w).arrays["magmom_dir"]
          - domain_wall(atoms, kind, c - h, w).arrays["magmom_dir"]) / (2 * h)
    assert np.abs(fd - rate[:, None] * np.cross(axis[None], m)).max() < 1e-9
    assert np.abs(m @ axis).max() < 1e-14  # m turns in the plane ⊥ the axis
    # at the centre the rate is ∓1/λ_w (f = 1)
    z = atoms.positions[:, 2]
    f = 1 / np.cosh((z - c) / w)
    assert np.allclose(np.abs(rate), f / w, atol=1e-14)


def test_pumped_electrons_of_a_moving_barrier():
    """A smooth reflecting barrier V(z − X) in a chain at k_F = π/3 (n = 1/3 per site): moving it
    by δX pushes δX/3 electrons into the right lead and pulls as many from the left one."""
    n, x0, v0, s = 120, 60.3, 6.0, 4.0
    z = np.arange(n) - x0
    v = v0 * np.exp(-(z / s) ** 2)
    dv = 2 * z / s**2 * v  # ∂V(z − X)/∂X
    hop = np.array([[-1.0]])
    res = smatrix(np.zeros((1, 1)), hop, [np.array([[x]]) for x in v], [hop] * (n + 1), np.zeros((1, 1)), hop,
                  energy=-1.0, dh_slab=[np.array([[x]]) for x in dv])
    assert res.transmission() < 1e-10
    pump = np.imag(np.conj(res.dS) * res.S) / (2 * math.pi)
    assert pump[1:].sum() == pytest.approx(1 / 3, abs=1e-6)
    assert pump[:1].sum() == pytest.approx(-1 / 3, abs=1e-6)


def _lead_z(atoms):
    """The wall on ``atoms`` with the (non-magnetic) lead moments fixed along z, so that two
    wall positions share the lead-mode basis."""
    region = np.asarray(atoms.arrays["region"])
    atoms.arrays["magmom_dir"][(region == REGION_LEFT) | (region == REGION_RIGHT)] = [0.0, 0.0, 1.0]
    return atoms


def test_analytic_derivative_against_central_differences(pot_mag):
    atoms, kind, w, h = _stack(16), "bloch", 4.0, 1e-3
    c = wall_center(atoms)
    k = np.array([0.21, 0.13, 0.0])

    def s_of(cc):
        b = MTOModel.build(_lead_z(domain_wall(atoms, kind, cc, w)), pot_mag, 0.0, True, "orthogonal").blocks(k)
        return smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right).S

    axis, rate = wall_rotation(atoms, kind, c, w)
    slab = np.asarray(atoms.arrays["region"]) == REGION_SLAB
    base = MTOModel.build(_lead_z(domain_wall(atoms, kind, c, w)), pot_mag, 0.0, True, "orthogonal",
                          rotated=slab, axes=axis[None])
    dt = _weighted(base.dterms[0], np.where(slab, rate, 0.0))
    b, dh, dv = MTOModel.from_terms(base.layered, dt, (dt,), axis[None]).blocks_and_derivatives(k)
    ds = smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right, dh_slab=dh[0], dv_slab=dv[0]).dS
    fd = (s_of(c + h) - s_of(c - h)) / (2 * h)
    assert np.abs(ds).max() > 1e-2
    assert np.abs(fd - ds).max() < 1e-6 * np.abs(ds).max() / 1e-2


def _fields(r: WallResult):
    return np.array([r.G_e2h, r.dS_trace, r.pumped_left, r.pumped_right])


def test_wall_types_coincide_without_soc(pot_mag):
    res = [compute_wall(_stack(12), pot_mag, kind, 4.0, kmesh=(2, 2), soc=False, soc_form="orthogonal",
                        progress=False) for kind in WALL_KINDS]
    ref = _fields(res[0])
    assert ref[1] > 0 and abs(ref[2]) > 1e-3
    for r in res[1:]:
        assert np.allclose(_fields(r), ref, rtol=1e-9, atol=1e-12)
    r = res[0]
    assert abs(r.friedel) < 1e-10  # a mirror-symmetric centre: the slab's charge is stationary
    # Eq. 78 as coded from the stored traces
    assert r.alpha(2.0) == pytest.approx(2 * 4.0 * r.dS_trace * r.slab_length_angstrom / (8 * math.pi * r.moment_muB))
    assert r.p_beta == pytest.approx(4.0 * 0.5 * (r.pumped_right - r.pumped_left) / r.G_e2h)
    assert r.slab_length_angstrom == pytest.approx(12 * layer_spacing("001", A))
    assert r.moment_muB == pytest.approx(12 * 0.6)


def test_translation_in_an_infinite_ferromagnet(pot_mag):
    """With ferromagnetic leads (the wall in an infinite wire) the fcc [001] lattice repeats
    every layer (translation by a/2 along z with a lateral glide): a narrow wall (λ_w = 1.2 Å)
    moved by one or two layers gives the same G, T_w and Π to round-off (with SOC); the slab's
    electron number changes periodically with r_w (lattice pinning), so the Friedel term
    vanishes at the mirror-symmetric midpoints between layers and not in between."""
    atoms, w = build_stack(supercell=(1, 1), layers=24, lattice_constant=A, composition={"Ni": 1.0}, lead="Ni",
                           system="wall"), 1.2
    c, d = wall_center(atoms), layer_spacing("001", A)

    def at(off):
        return compute_wall(atoms, pot_mag, "neel", w, center=c + off * d, kmesh=(2, 2), soc=True,
                            soc_form="orthogonal", progress=False)

    mid, mid1, gen, gen1, gen2 = (at(o) for o in (0.0, 1.0, 0.3, 1.3, -0.7))
    assert mid.dS_trace > 0
    assert np.allclose(_fields(mid), _fields(mid1), rtol=1e-7, atol=1e-9)
    for r in (gen1, gen2):
        assert np.allclose(_fields(gen), _fields(r), rtol=1e-7, atol=1e-9)
    assert abs(mid.friedel) < 1e-9 and abs(gen.friedel) > 1e-3


def test_bad_input(pot_mag):
    atoms = _stack(4)
    with pytest.raises(ValueError, match="kind must be one of"):
        compute_wall(atoms, pot_mag, "vortex", 4.0, progress=False)
    with pytest.raises(ValueError, match="width must be a positive length"):
        compute_wall(atoms, pot_mag, "neel", 0.0, progress=False)
    with pytest.raises(ValueError, match="center must be a finite"):
        wall_rotation(atoms, "neel", float("nan"), 4.0)


def test_wall_command_line_and_table(tmp_path, spin_split_cu, pot_mag):
    """`tbmto wall` writes the WallResult of compute_wall; `tbmto walls` turns plan records into
    the domain-walls tables (means, per configuration) and `tbmto plot` draws seed Figs. 8–9."""
    import json
    from pathlib import Path

    import pandas as pd

    from tbmto.cli import main
    from tbmto.io import write_structure

    cu = Path(__file__).parent / "data" / "cu_rslmto.json"
    mag = tmp_path / "magnet.json"
    mag.write_text(json.dumps(spin_split_cu(json.loads(cu.read_text()))))
    atoms = _stack(8)
    write_structure(atoms, tmp_path / "s.extxyz")
    common = ["--structure", str(tmp_path / "s.extxyz"), "--potentials", str(cu), str(mag), "--kmesh", "2",
              "--soc-form", "orthogonal", "--linearisation", "band_centre", "--no-progress"]
    rows = []
    for c, lam in enumerate((0.3, 0.6)):
        out = tmp_path / f"w{c}.json"
        assert main(["wall", *common, "--kind", "bloch", "--lambda-nm", str(lam), "--out", str(out)]) == 0
        rows.append({"path": str(out), "domain_wall": "t", "wall": "bloch", "lambda_nm": lam, "config": 0,
                     "bulk_half_path": "", "bulk_path": ""})
    data = json.loads((tmp_path / "w0.json").read_text())
    ref = compute_wall(atoms, pot_mag, "bloch", 3.0, kmesh=(2, 2), soc=True, soc_form="orthogonal", progress=False)
    assert data["format"] == "tbmto-wall/1" and data["inputs"]["kind"] == "bloch"
    assert data["summary"]["alpha_dw"] == pytest.approx(ref.alpha(), rel=1e-10)
    assert data["summary"]["p_beta"] == pytest.approx(ref.p_beta, rel=1e-8, abs=1e-12)
    pd.DataFrame(rows).to_csv(tmp_path / "records.csv", index=False)
    assert main(["walls", "--records", str(tmp_path / "records.csv"), "--out-dir", str(tmp_path / "tables")]) == 0
    tab = pd.read_csv(tmp_path / "tables" / "domain_walls.csv")
    assert tab["lambda_nm"].tolist() == [0.3, 0.6] and tab["alpha_dw_err"].isna().all()
    assert tab["alpha_dw"].iloc[0] == pytest.approx(ref.alpha(), rel=1e-10) and tab["alpha_bulk"].isna().all()
    for fig in ("alpha_dw", "pbeta_dw"):
        assert main(["plot", fig, "--tables-dir", str(tmp_path / "tables"), "--out", str(tmp_path / fig)]) == 0
        assert (tmp_path / f"{fig}.png").stat().st_size > 1000
    # a file that disagrees with its plan row is an error
    rows[0]["lambda_nm"] = 0.4
    pd.DataFrame(rows).to_csv(tmp_path / "records.csv", index=False)
    assert main(["walls", "--records", str(tmp_path / "records.csv"), "--out-dir", str(tmp_path / "t2")]) == 2
