"""Spin-mixing conductances of collinear N | F | N stacks without spin–orbit coupling.

Without SOC and with every moment along ẑ (the ``par`` magnetisation), H = S^α(k∥) − P^α(E_F)
is block diagonal in the global spin (orbital index 18a + 9σ + L), so the spin-↑ and spin-↓
scattering problems are solved separately on the same non-magnetic lead blocks — hence in
the same lead-channel basis — and combined channel by channel into the reflection and
transmission mixing conductances of the left and the right interface
(:func:`tbmto.observables.mixing_conductances`; Xia, Kelly, Bauer, Brataas & Turek, PRB 65,
220401 (2002); seed Eq. 79). Results are k∥ averages per lateral cell (e²/h) and per area
(10¹⁵ Ω⁻¹ m⁻²), real and imaginary parts; the spin-resolved conductances G↑, G↓ and the Sharvin
conductance of each lead (per spin) come with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from .layers import HamiltonianBlocks, kmesh as kmesh_points
from .model import MTOModel
from .observables import conductance_per_area, mixing_conductances
from .parallel import kmap
from .potentials import Potentials
from .transport import DEFAULT_SOC_FORM
from .wfm import smatrix

__all__ = ["MixingResult", "LEAD_SPIN_TOL", "spin_blocks", "compute_mixing"]

LEAD_SPIN_TOL: float = 1e-8
"""Largest relative difference of the spin-↑ and spin-↓ lead blocks of a non-magnetic lead (a
self-consistent non-magnetic metal carries spin asymmetries of ~1e−13 from round-off)."""


@dataclass
class MixingResult:
    """k∥-averaged mixing and spin-resolved conductances of one N | F | N structure.

    Attributes (per lateral cell in e²/h unless ``_1e15`` (per area, 10¹⁵ Ω⁻¹ m⁻²))
    ----------
    g_mix_left, g_mix_right : complex
        Reflection mixing conductance g↑↓ seen from the left / right lead.
    g_mix_t_left, g_mix_t_right : complex
        Transmission mixing conductance, incidence from the left / right lead.
    g_up, g_down : float
        Spin-resolved conductances Tr t↑t↑†, Tr t↓t↓†.
    n_left, n_right : float
        Propagating channels per spin of the left / right lead (the Sharvin conductance per
        spin in e²/h).
    area_nm2 : float
    n_k : int
    per_k : dict
        Per k∥: ``g_mix_left``, ``g_mix_right``, ``g_mix_t_left``, ``g_mix_t_right`` (complex
        arrays) and ``dissipation`` = Σ_sides Re(g↑↓ − g↑↓_t), the damping trace of a rotation
        of the slab moments about an axis ⊥ ẑ (identity of :func:`mixing_conductances`).
    """

    g_mix_left: complex
    g_mix_right: complex
    g_mix_t_left: complex
    g_mix_t_right: complex
    g_up: float
    g_down: float
    n_left: float
    n_right: float
    area_nm2: float
    n_k: int
    per_k: dict

    def per_area(self) -> dict:
        """Real and imaginary parts of every conductance per area (10¹⁵ Ω⁻¹ m⁻²), the keys of
        the interfaces table (``re_gmix_1e15``, ``im_gmix_1e15``, ... for the left interface,
        ``..._right`` for the right one)."""
        def pa(x):
            return float(np.sign(x) * conductance_per_area(abs(x), self.area_nm2))

        out = {}
        for side in ("left", "right"):
            suffix = "" if side == "left" else "_right"
            g, gt = getattr(self, f"g_mix_{side}"), getattr(self, f"g_mix_t_{side}")
            out.update({f"re_gmix{suffix}_1e15": pa(g.real), f"im_gmix{suffix}_1e15": pa(g.imag),
                        f"re_gmix_t{suffix}_1e15": pa(gt.real), f"im_gmix_t{suffix}_1e15": pa(gt.imag)})
        out.update(sharvin_n_1e15=pa(self.n_left), g_up_1e15=pa(self.g_up), g_down_1e15=pa(self.g_down))
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable dict (complex numbers as [re, im])."""
        def conv(v):
            if isinstance(v, complex):
                return [v.real, v.imag]
            if isinstance(v, np.ndarray):
                return [[complex(x).real, complex(x).imag] for x in v] if np.iscomplexobj(v) else v.tolist()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v
        return {k: conv(v) for k, v in asdict(self).items()}


def spin_blocks(blocks: HamiltonianBlocks, spin: int) -> HamiltonianBlocks:
    """The spin-σ part (σ = 0 ↑, 1 ↓ along ẑ) of blocks with the orbital order 18a + 9σ + L."""
    if spin not in (0, 1):
        raise ValueError(f"spin must be 0 (up) or 1 (down), got {spin!r}")

    def idx(n: int) -> np.ndarray:
        if n % 18:
            raise ValueError(f"block dimension {n} is not a multiple of 18 spin-orbitals per atom")
        return (18 * np.arange(n // 18)[:, None] + 9 * spin + np.arange(9)[None]).ravel()

    def sub(m: np.ndarray) -> np.ndarray:
        return m[np.ix_(idx(m.shape[0]), idx(m.shape[1]))]

    return HamiltonianBlocks(sub(blocks.h_left), sub(blocks.v_left), [sub(h) for h in blocks.h_slab],
                             [sub(v) for v in blocks.v_slab], sub(blocks.h_right), sub(blocks.v_right))


def _check_collinear(atoms: Atoms) -> None:
    m = np.asarray(atoms.arrays["magmom_dir"], dtype=float)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    if not np.allclose(np.abs(m[:, 2]), 1.0, atol=1e-12):
        raise ValueError("mixing conductances need every moment along ±z (magnetization 'par'): "
                         "the spin-↑ and spin-↓ problems then decouple without SOC")


def compute_mixing(atoms: Atoms, potentials: Potentials, kmesh=(8, 8), kgrid: str = "shifted",
                   energy_Ry: float = 0.0, comm=None, progress: bool = True) -> MixingResult:
    """Mixing conductances of a lead | F | lead stack without SOC (module docstring).

    Parameters
    ----------
    atoms : ase.Atoms
        A :func:`tbmto.structure.build_stack` stack with all moments along ±ẑ and
        non-magnetic leads.
    potentials : Potentials
    kmesh : (int, int)
        k∥ mesh of the lateral cell (:func:`tbmto.layers.kmesh`).
    kgrid : {"shifted", "gamma"}
    energy_Ry : float
        Energy relative to E_F (Ry).
    comm : mpi4py communicator, optional
        k-points are distributed over its ranks (:func:`tbmto.parallel.kmap`).
    progress : bool

    Raises
    ------
    ValueError
        For moments not along ±ẑ, or leads whose spin-↑ and spin-↓ channels differ
        (magnetic leads).
    """
    _check_collinear(atoms)
    model = MTOModel.build(atoms, potentials, float(energy_Ry), soc=False, soc_form=DEFAULT_SOC_FORM)
    cell2d = model.layered.cell2d
    ks = kmesh_points(cell2d, tuple(kmesh), kgrid)

    def one_k(k):
        b = model.blocks(k)
        b_up, b_dn = spin_blocks(b, 0), spin_blocks(b, 1)
        for f in ("h_left", "v_left", "h_right", "v_right"):
            x, y = getattr(b_up, f), getattr(b_dn, f)
            if np.max(np.abs(x - y)) > LEAD_SPIN_TOL * max(1.0, float(np.max(np.abs(x)))):
                raise ValueError("the spin-up and spin-down lead blocks differ (magnetic leads?); mixing "
                                 "conductances need non-magnetic leads")
        # one channel basis for both spins: the spin-↓ problem uses the spin-↑ lead blocks (equal
        # to round-off for a non-magnetic lead, which the check above guarantees)
        b_dn = HamiltonianBlocks(b_up.h_left, b_up.v_left, b_dn.h_slab, b_dn.v_slab, b_up.h_right, b_up.v_right)
        up, dn = (smatrix(bb.h_left, bb.v_left, bb.h_slab, bb.v_slab, bb.h_right, bb.v_right)
                  for bb in (b_up, b_dn))
        gl, gtl = mixing_conductances(up.r, dn.r, up.t, dn.t)
        gr, gtr = mixing_conductances(up.r_prime, dn.r_prime, up.t_prime, dn.t_prime)
        return (gl, gr, gtl, gtr, up.transmission(), dn.transmission(), up.n_left, up.n_right)

    recs = kmap(one_k, list(ks), comm=comm, progress=progress, desc="k-points (mixing)")
    arr = {name: np.array([r[i] for r in recs]) for i, name in enumerate(
        ("g_mix_left", "g_mix_right", "g_mix_t_left", "g_mix_t_right", "g_up", "g_down", "n_left", "n_right"))}
    nk = len(ks)
    area_nm2 = model.layered.area_nm2
    per_k = {k: arr[k] for k in ("g_mix_left", "g_mix_right", "g_mix_t_left", "g_mix_t_right")}
    per_k["dissipation"] = np.real(arr["g_mix_left"] - arr["g_mix_t_left"] + arr["g_mix_right"] - arr["g_mix_t_right"])
    return MixingResult(
        g_mix_left=complex(arr["g_mix_left"].mean()), g_mix_right=complex(arr["g_mix_right"].mean()),
        g_mix_t_left=complex(arr["g_mix_t_left"].mean()), g_mix_t_right=complex(arr["g_mix_t_right"].mean()),
        g_up=float(arr["g_up"].mean()), g_down=float(arr["g_down"].mean()),
        n_left=float(arr["n_left"].mean()), n_right=float(arr["n_right"].mean()),
        area_nm2=area_nm2, n_k=nk, per_k=per_k)
