"""Slater–Pauling behaviour of the alloy self-consistency alone (tbmto.asa.scf, default CPA model).

The average spin moment per atom, M̄ = Σ_species (site fraction) × (species moment), of three
classic random alloys at their Vegard lattice constants (tbmto.materials):

* bcc Fe(1−x)Co(x): M̄ rises from pure Fe (≈ 2.2 μB in LSDA) to a maximum near x ≈ 0.2–0.3 and
  falls beyond (the Slater–Pauling curve; measured maximum ≈ 2.45 μB near x ≈ 0.3, e.g. Bozorth,
  *Ferromagnetism* (1951));
* fcc Ni(1−x)Cu(x): M̄ falls roughly linearly (Cu fills the Ni d holes) and vanishes near
  x ≈ 0.5–0.6 (measured ≈ 0.55–0.6);
* fcc Ni(1−x)Co(x): M̄ rises roughly linearly from Ni (≈ 0.6 μB) to fcc Co (≈ 1.6 μB).

Measured with the default settings (kmesh 12, cpa_kmesh 16, 2026-12-02), CPA: FeCo M̄ = 2.18,
2.29, 2.31, 2.30, 2.25, 2.17 μB at x = 0, 0.1, 0.2, 0.3, 0.4, 0.5 (maximum 2.31 μB near x ≈ 0.2,
below the measured 2.45, as with the supercell model: 2.18, 2.27, 2.31, 2.30, 2.26, 2.20 — LSDA-ASA
and the shrinking Vegard lattice constant, not the alloy model); NiCu 0.63, 0.43, 0.23, 0.12,
0.00 at x = 0, 0.2, 0.4, 0.5, 0.6 (supercell: 0.63, 0.40, 0.16, 0.00, 0.00); supercell NiCo 0.63,
0.86, 1.11, 1.35, 1.64 at x = 0, 0.25, 0.5, 0.75, 1 (docs/validation.md §10–§11). The fcc runs
use kmesh 10 for the elements (the CPA sums use cpa_kmesh); bcc Fe needs the default 12: its moment
is 2.31, 2.18, 2.24, 2.20, 2.22, 2.22 μB at kmesh 10, 12, 14, 16, 20, 24 (a DOS peak at E_F),
so the FeCo rise of ≈ 0.13 μB at kmesh 12 carries a k-mesh uncertainty of a few 0.01 μB.
"""

from __future__ import annotations

import functools

import pytest

from tbmto.asa import scf

pytestmark = pytest.mark.slow


@functools.lru_cache(maxsize=None)
def average_moment(lattice: str, host: str, solute: str, x: float) -> tuple[float, dict]:
    d = scf({host: 1.0 - x, solute: x}, lattice, kmesh=12 if lattice == "bcc" else 10, progress=False)
    sp = d["species"]
    return sum(v["site_fraction"] * v["moment_muB"] for v in sp.values()), {
        k: v["moment_muB"] for k, v in sp.items()}


def test_bcc_feco_slater_pauling_maximum():
    m0, _ = average_moment("bcc", "Fe", "Co", 0.0)
    m25, sp25 = average_moment("bcc", "Fe", "Co", 0.25)
    m50, sp50 = average_moment("bcc", "Fe", "Co", 0.5)
    assert m0 == pytest.approx(2.2, abs=0.1)
    assert m25 > m0 + 0.05 and m25 > m50      # rises, then falls: a maximum inside (0, 0.5)
    assert 2.25 < m25 < 2.5
    # the Fe moment is enhanced by Co neighbours, Co stays near its own 1.6–1.8 μB
    assert sp50["Fe"] > sp25["Fe"] > m0 and 1.6 < sp25["Co"] < 1.9


def test_fcc_nicu_moment_collapse():
    m0, _ = average_moment("fcc", "Ni", "Cu", 0.0)
    m30, sp30 = average_moment("fcc", "Ni", "Cu", 0.3)
    m60, _ = average_moment("fcc", "Ni", "Cu", 0.6)
    assert m0 == pytest.approx(0.62, abs=0.05)
    # roughly linear fall towards zero near x ≈ 0.55: at x = 0.3 about half of the Ni value
    assert 0.15 < m30 < 0.45 and abs(sp30["Cu"]) < 0.03
    assert abs(m60) < 0.02


def test_fcc_nico_linear_rise():
    m0, _ = average_moment("fcc", "Ni", "Co", 0.0)
    m50, _ = average_moment("fcc", "Ni", "Co", 0.5)
    m100, _ = average_moment("fcc", "Ni", "Co", 1.0)
    assert m0 == pytest.approx(0.62, abs=0.05) and m100 == pytest.approx(1.6, abs=0.1)
    assert m50 == pytest.approx(0.5 * (m0 + m100), abs=0.06)
