"""Canonical and screened LMTO structure constants (κ = 0) for any atomic positions.

Formulas (Andersen & Jepsen, PRL 53, 2571 (1984); Andersen, Jepsen & Glötzel, in *Highlights of
Condensed-Matter Theory*, North-Holland (1985)):

* canonical, d = R' − R (row site R → column site R'), l'' = l + l',

  S⁰_{RL,R'L'} = (−1)^(l'+1) 8π (2l''−1)!! / [(2l−1)!! (2l'−1)!!]
                 Σ_{m''} G(L, L', L'') (w/d)^(l''+1) Y_{L''}(d̂),

  G the real Gaunt integral, w the average Wigner–Seitz radius;
* screened, S^α = S⁰ (1 − α S⁰)⁻¹ with α = diag(α_l), evaluated in real space on a cluster
  around every site (on-site S⁰ block = 0). Only the rows of the centre atom are kept:
  because S⁰ is real symmetric, row 0 of S^α is column 0 of (1 − S⁰ α)⁻¹ S⁰, i.e. one
  linear solve with 9 right-hand sides per distinct cluster. Truncated-cluster rows are
  slightly non-Hermitian and are symmetrised over each pair and its partner.

Length unit: whatever the caller uses for positions, ``w``, ``cutoff`` and
``cluster_radius`` (Å throughout the transport code); k-points are in the inverse unit
(1/Å), with the Bloch phase e^{ik·T} of the lattice translation T only.

Default ranges are set in units of w from the fcc shell distances (fcc: w/a = (3/16π)^(1/3),
shell n at d = a √(n/2)) and the convergence numbers of the reference; see the module
constants below.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import pi

import numpy as np
import scipy.linalg
import scipy.sparse
from scipy.spatial import cKDTree

from .harmonics import l_of_index, real_gaunt, real_harmonics

__all__ = [
    "SCREENING_ALPHA",
    "FCC_W_OVER_A",
    "BLOCH_CUTOFF_W",
    "BLOCH_CLUSTER_MARGIN_W",
    "PAIR_CUTOFF_W",
    "PAIR_CLUSTER_RADIUS_W",
    "Pairs",
    "canonical",
    "screen_cluster",
    "screened_pairs",
    "bulk_pairs",
    "bloch_salpha",
    "bloch_sum",
]

SCREENING_ALPHA: tuple[float, float, float] = (0.3485, 0.05303, 0.010714)
"""Screening constants (α_s, α_p, α_d) on the w scale (Andersen & Jepsen 1984)."""

FCC_W_OVER_A: float = (3.0 / (16.0 * pi)) ** (1.0 / 3.0)
"""Average Wigner–Seitz radius over the cubic lattice constant for fcc, (3/16π)^(1/3)."""

BLOCH_CUTOFF_W: float = 5.25
"""Default pair cutoff of :func:`bloch_salpha` in units of w: 8 fcc shells (8th at
2a = 5.118 w, 9th at 2.121a = 5.428 w), the range of the reference Cu band table."""

BLOCH_CLUSTER_MARGIN_W: float = 1.15
"""Default screening-cluster radius of :func:`bulk_pairs`/:func:`bloch_salpha` is
``cutoff + BLOCH_CLUSTER_MARGIN_W · w`` (with the default cutoff 6.4 w: 12 fcc shells, 249
atoms; 12th shell at 6.27 w, 13th at 6.52 w). Enlarging it changes the Cu bands by < 1e-4 eV
(``tests/test_lmto_hamiltonian.py``)."""

PAIR_CUTOFF_W: float = 2.85
"""Default pair cutoff of :func:`screened_pairs` in units of w: 2 fcc shells (2nd at
a = 2.559 w, 3rd at 1.225a = 3.134 w). Third-shell |S^α| ≤ 0.23; the reference finds that a
2-shell cut moves Cu states near E_F by ≲ 0.03 eV, and fcc(001) principal layers stay two
atomic layers thick."""

PAIR_CLUSTER_RADIUS_W: float = 3.8
"""Default screening-cluster radius of :func:`screened_pairs` in units of w: 4 fcc shells,
55 atoms (4th at 1.414a = 3.619 w, 5th at 1.581a = 4.046 w); reference error of the central
row 7e−7 on-site and 1.7e−5 nearest-neighbour."""

_ROUND_DIGITS = 8  # relative geometry key: positions / w rounded to 1e-8
_SOLVE_BATCH_ELEMENTS = 2_000_000  # batch size limit for stacked cluster matrices (floats)


def _double_factorial_odd(n: int) -> float:
    """(2n − 1)!! with (−1)!! = 1."""
    return float(np.prod(np.arange(1, 2 * n, 2))) if n > 0 else 1.0


@lru_cache(maxsize=2)
def _canonical_prefactor(lmax: int = 2) -> np.ndarray:
    """Array F[L, L', L''] = (−1)^(l'+1) 8π (2l''−1)!!/[(2l−1)!!(2l'−1)!!] G δ(l'', l+l')."""
    lv = l_of_index(lmax)
    l2 = l_of_index(2 * lmax)
    g = np.array(real_gaunt(lmax, lmax, 2 * lmax))
    fac = np.zeros_like(g)
    for a, la in enumerate(lv):
        for b, lb in enumerate(lv):
            sel = l2 == la + lb
            fac[a, b, sel] = (
                (-1.0) ** (lb + 1)
                * 8.0
                * pi
                * _double_factorial_odd(la + lb)
                / (_double_factorial_odd(la) * _double_factorial_odd(lb))
                * g[a, b, sel]
            )
    fac.setflags(write=False)
    return fac


def _positive(value, name: str, what: str = "number") -> float:
    """``value`` as a finite float > 0; ValueError naming ``name`` otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a positive {what}, got {value!r}") from exc
    if not np.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a positive {what}, got {value!r}")
    return v


def _check_w(w: float) -> float:
    return _positive(w, "w")


def _check_alpha(alpha) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.any(a < 0.0):
        raise ValueError(f"alpha must be three non-negative numbers (s, p, d), got {alpha!r}")
    return a


def canonical(d: np.ndarray, w: float) -> np.ndarray:
    """Canonical structure-constant blocks S⁰(d) for l ≤ 2.

    Parameters
    ----------
    d : array_like, shape (..., 3)
        Bond vectors d = R' − R from the row site to the column site (non-zero).
    w : float
        Average Wigner–Seitz radius, same length unit as ``d``.

    Returns
    -------
    numpy.ndarray, shape (..., 9, 9)
        S⁰_{RL,R'L'} (dimensionless), the formula above. Real, with
        S⁰(d)ᵀ = S⁰(−d).

    Raises
    ------
    ValueError
        If ``d`` is not (..., 3), contains a zero vector, or ``w`` is not positive.
    """
    w = _check_w(w)
    d = np.asarray(d, dtype=float)
    if d.ndim == 0 or d.shape[-1] != 3:
        raise ValueError(f"d must have shape (..., 3), got {d.shape}")
    dist = np.linalg.norm(d, axis=-1)
    if np.any(dist == 0.0):
        raise ValueError("d contains a zero vector: the on-site canonical block is not defined")
    y = real_harmonics(d, 4)
    radial = (w / dist)[..., None] ** (l_of_index(4) + 1)
    fac = _canonical_prefactor(2).reshape(81, 25)
    return ((y * radial).reshape(-1, 25) @ fac.T).reshape(d.shape[:-1] + (9, 9))


def screen_cluster(positions: np.ndarray, w: float, alpha=SCREENING_ALPHA) -> np.ndarray:
    """Full real-space screening S^α = S⁰ (1 − α S⁰)⁻¹ of a finite cluster.

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        Distinct atomic positions (length unit of ``w``).
    w : float
        Average Wigner–Seitz radius.
    alpha : sequence of 3 floats
        Screening constants (α_s, α_p, α_d).

    Returns
    -------
    numpy.ndarray, shape (n, n, 9, 9)
        S^α blocks [R, R'] of the whole cluster (on-site S⁰ block set to 0 before
        screening). Exactly symmetric up to round-off because the cluster is treated as the
        whole crystal.
    """
    pos = _check_positions(positions)
    a_orb = _check_alpha(alpha)[l_of_index(2)]
    n = pos.shape[0]
    s0 = _cluster_s0(pos[None], _check_w(w))[0]
    m = np.eye(9 * n) - s0 * np.tile(a_orb, n)[None, :]
    sa = np.linalg.solve(m, s0).T  # (1 − S⁰α)⁻¹ S⁰ = (S^α)ᵀ
    return sa.reshape(n, 9, n, 9).transpose(0, 2, 1, 3)


def _check_positions(positions, name: str = "positions") -> np.ndarray:
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, 3) with n ≥ 1, got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError(f"{name} must be finite")
    return pos


def _cluster_s0(geom: np.ndarray, w: float) -> np.ndarray:
    """S⁰ matrices (B, 9n, 9n) of stacked clusters (B, n, 3), index 9·atom + L.

    On-site blocks are zero; only the pairs a < b are evaluated, S⁰[b, a] = S⁰[a, b]ᵀ.
    """
    b, n, _ = geom.shape
    ia, ib = np.triu_indices(n, 1)
    d = geom[:, ib, :] - geom[:, ia, :]  # r_b − r_a
    if np.any(np.linalg.norm(d, axis=-1) < 1e-12 * w):
        raise ValueError("positions contain coincident atoms")
    s = canonical(d, w).transpose(1, 0, 2, 3)  # (npair, B, 9, 9)
    s0 = np.zeros((b, n, 9, n, 9))
    s0[:, ia, :, ib, :] = s
    s0[:, ib, :, ia, :] = s.swapaxes(-1, -2)
    return s0.reshape(b, 9 * n, 9 * n)


def _screen_centre_rows(geom: np.ndarray, w: float, alpha: np.ndarray) -> np.ndarray:
    """Rows of the centre atom (index 0) of S^α for stacked clusters.

    Row 0 of S^α = S⁰(1 − αS⁰)⁻¹ is column 0 of (1 − S⁰α)⁻¹S⁰. With β = α^½ this is
    β⁻¹(1 − βS⁰β)⁻¹βS⁰[:, 0], a symmetric system that is positive definite for sensible
    screening constants (Cholesky); otherwise (or when some α_l = 0) LU is used.

    Parameters
    ----------
    geom : (B, n, 3) cluster positions, atom 0 the centre.

    Returns
    -------
    (B, n, 9, 9) blocks S^α_{0, j}.
    """
    b, n, _ = geom.shape
    a_orb = np.tile(alpha[l_of_index(2)], n)
    beta = np.sqrt(a_orb)
    diag = np.arange(9 * n)
    out = np.empty((b, n, 9, 9))
    chunk = max(1, _SOLVE_BATCH_ELEMENTS // (81 * n * n))
    for start in range(0, b, chunk):
        sl = slice(start, min(b, start + chunk))
        s0 = _cluster_s0(geom[sl], w)
        rhs = s0[:, :, :9].copy()
        x = None
        if np.all(beta > 0.0):
            m = s0 * (-np.outer(beta, beta))[None]
            m[:, diag, diag] += 1.0
            try:
                x = scipy.linalg.solve(m, beta[None, :, None] * rhs, assume_a="pos",
                                       check_finite=False)
                x /= beta[None, :, None]
            except np.linalg.LinAlgError:
                x = None
        if x is None:
            m = s0 * (-a_orb)[None, None, :]
            m[:, diag, diag] += 1.0
            x = np.linalg.solve(m, rhs)
        out[sl] = x.reshape(-1, n, 9, 9).transpose(0, 1, 3, 2)
    return out


def _lattice_images(pos: np.ndarray, lattice: np.ndarray, radius: float):
    """All (i, j, shift) with |r_j + shift·lattice − r_i| ≤ radius.

    Returns i (m,), j (m,), shift (m, p) int, vec (m, 3) = r_j + shift·lattice − r_i.
    """
    p = lattice.shape[0]
    if p:
        dual = np.linalg.solve(lattice @ lattice.T, lattice)  # dual · latticeᵀ = 1
        frac = pos @ dual.T
        span = frac.max(axis=0) - frac.min(axis=0)
        nmax = np.ceil(radius * np.linalg.norm(dual, axis=1) + span + 1e-9).astype(int)
        grids = np.meshgrid(*[np.arange(-k, k + 1) for k in nmax], indexing="ij")
        shifts = np.stack([g.ravel() for g in grids], axis=-1)
    else:
        shifts = np.zeros((1, 0), dtype=int)
    trans = shifts @ lattice if p else np.zeros((1, 3))
    nat = pos.shape[0]
    img = (pos[None, :, :] + trans[:, None, :]).reshape(-1, 3)
    tree = cKDTree(img)
    hits = tree.query_ball_point(pos, radius * (1 + 1e-12))
    counts = np.fromiter((len(h) for h in hits), dtype=int, count=nat)
    flat = np.fromiter((k for h in hits for k in h), dtype=int, count=int(counts.sum()))
    ii = np.repeat(np.arange(nat), counts)
    jj = flat % nat
    sh = shifts[flat // nat]
    vec = img[flat] - pos[ii]
    return ii, jj, sh, vec


def _screened_rows(pos, lattice, w, alpha, cutoff, cluster_radius, ref=None):
    """Screened blocks S^α_{i, j+shift} for |d| ≤ cutoff, not yet symmetrised.

    Cluster membership and the pair cutoff are decided on ``ref`` (default ``pos``); the
    structure constants use ``pos``. Clusters that are identical up to translation (same
    rounded relative geometry) are screened once.
    """
    ref = pos if ref is None else ref
    ii, jj, sh, vec_ref = _lattice_images(ref, lattice, cluster_radius)
    trans = sh @ lattice if lattice.shape[0] else np.zeros((len(ii), 3))
    vec = pos[jj] + trans - pos[ii]
    nat = pos.shape[0]
    # canonical order inside each cluster: centre first, then lexicographic in rounded coords
    q = np.round(vec / w * 10**_ROUND_DIGITS).astype(np.int64)
    is_centre = (jj == ii) & np.all(sh == 0, axis=1)
    order = np.lexsort((q[:, 2], q[:, 1], q[:, 0], ~is_centre, ii))
    ii, jj, sh, vec, vec_ref, q = (x[order] for x in (ii, jj, sh, vec, vec_ref, q))
    counts = np.bincount(ii, minlength=nat)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    keys = [q[s : s + c].tobytes() for s, c in zip(starts, counts)]
    uniq: dict[bytes, int] = {}
    rep = np.empty(nat, dtype=int)  # representative atom for every atom
    for a, k in enumerate(keys):
        rep[a] = uniq.setdefault(k, a)
    reps = np.array(sorted(set(rep.tolist())), dtype=int)
    rows: dict[int, np.ndarray] = {}
    for n in np.unique(counts[reps]):
        group = reps[counts[reps] == n]
        geom = np.stack([vec[starts[g] : starts[g] + n] for g in group])
        res = _screen_centre_rows(geom, w, alpha)
        for g, r in zip(group, res):
            rows[int(g)] = r
    blocks = np.concatenate([rows[int(rep[a])] for a in range(nat)])
    keep = np.linalg.norm(vec_ref, axis=1) <= cutoff * (1 + 1e-12)
    return ii[keep], jj[keep], sh[keep], vec[keep], blocks[keep]


def _symmetrise(ii, jj, sh, blocks):
    """Average every block with the transpose of its partner (j, i, −shift); drop orphans."""
    key = np.column_stack([ii, jj, sh])
    pkey = np.column_stack([jj, ii, -sh])
    allk, inv = np.unique(np.vstack([key, pkey]), axis=0, return_inverse=True)
    inv = inv.ravel()
    idx_of = np.full(allk.shape[0], -1, dtype=int)
    idx_of[inv[: len(ii)]] = np.arange(len(ii))
    partner = idx_of[inv[len(ii) :]]
    ok = partner >= 0
    sym = 0.5 * (blocks[ok] + blocks[partner[ok]].transpose(0, 2, 1))
    sel = np.flatnonzero(ok)
    order = np.lexsort(tuple(key[sel][:, ::-1].T))
    sel = sel[order]
    return ii[sel], jj[sel], sh[sel], sym[order]


@dataclass(frozen=True)
class Pairs:
    """Screened structure-constant pairs S^α_{iL, jL'} (docs/interfaces.md).

    Attributes
    ----------
    i, j : numpy.ndarray, shape (npairs,)
        Row atom and column atom indices.
    shift : numpy.ndarray, shape (npairs, 2), int
        Lateral lattice shift: the column atom sits at positions[j] + shift @ cell2d (zeros
        for a finite cluster).
    block : numpy.ndarray, shape (npairs, 9, 9)
        S^α blocks (dimensionless, real). The pair set is Hermitian: the block of
        (j, i, −shift) is the transpose of the block of (i, j, shift).
    """

    i: np.ndarray
    j: np.ndarray
    shift: np.ndarray
    block: np.ndarray


def _range(value, default_w: float, w: float, name: str) -> float:
    if value is None:
        return default_w * w
    return _positive(value, name, "length")


def screened_pairs(
    positions: np.ndarray,
    w: float,
    cell2d: np.ndarray | None = None,
    cutoff: float | None = None,
    cluster_radius: float | None = None,
    alpha=SCREENING_ALPHA,
    reference_positions: np.ndarray | None = None,
) -> Pairs:
    """Screened structure constants S^α between all atom pairs within ``cutoff``.

    For every atom i a cluster of all atoms (and their lateral images) within
    ``cluster_radius`` is screened, S^α = S⁰(1 − αS⁰)⁻¹ (on-site S⁰ = 0), and the centre row
    blocks S^α_{i, j+shift} with |d| ≤ ``cutoff`` are kept; each block is then averaged with
    the transpose of its partner (j, i, −shift). Atoms whose clusters coincide up to a
    translation (rounded to 1e−8 w) share one linear solve, so undisplaced crystals cost a
    few solves. Atoms within ``cluster_radius`` of a free surface of ``positions`` see a
    truncated cluster: pad lead regions with enough layers.

    With ``reference_positions`` (e.g. the undisplaced lattice of a frozen-phonon
    configuration) the neighbour lists — cluster membership and the pair cutoff — are taken
    from the reference geometry while S^α is computed at ``positions``. The pair set then
    does not change with the displacements, S^α is a smooth function of them, and a pair
    never crosses the cutoff (no jumps of a 2nd- or 3rd-shell block, ~0.2, for displacements
    comparable to the shell gap).

    Parameters
    ----------
    positions : array_like, shape (n, 3)
        Atomic positions (any atoms, displaced allowed; Å in the transport code).
    w : float
        Average Wigner–Seitz radius (same unit).
    cell2d : array_like, shape (2, 3), optional
        Lateral lattice vectors (same unit); ``None`` for a finite cluster.
    cutoff : float, optional
        Pair range (same unit). Default ``PAIR_CUTOFF_W · w`` = 2.85 w (two fcc shells).
    cluster_radius : float, optional
        Screening-cluster radius (same unit), ≥ ``cutoff``. Default
        ``PAIR_CLUSTER_RADIUS_W · w`` = 3.8 w (4 fcc shells, 55 atoms).
    alpha : sequence of 3 floats
        Screening constants (α_s, α_p, α_d); default :data:`SCREENING_ALPHA`.
    reference_positions : array_like, shape (n, 3), optional
        Geometry that defines the neighbour lists (default: ``positions``).

    Returns
    -------
    Pairs
        Sorted by (i, j, shift), including the on-site pairs (i, i, 0).

    Raises
    ------
    ValueError
        For malformed positions, coincident atoms, non-positive ``w``, ``cell2d`` not (2, 3)
        of rank 2, ``cutoff`` > ``cluster_radius``, or invalid ``alpha``.
    """
    w = _check_w(w)
    pos = _check_positions(positions)
    alpha = _check_alpha(alpha)
    cutoff = _range(cutoff, PAIR_CUTOFF_W, w, "cutoff")
    cluster_radius = _range(cluster_radius, PAIR_CLUSTER_RADIUS_W, w, "cluster_radius")
    if cutoff > cluster_radius:
        raise ValueError(f"cutoff ({cutoff}) must not exceed cluster_radius ({cluster_radius})")
    if cell2d is None:
        lattice = np.zeros((0, 3))
    else:
        lattice = np.asarray(cell2d, dtype=float)
        if lattice.shape != (2, 3) or np.linalg.norm(np.cross(lattice[0], lattice[1])) < 1e-12:
            raise ValueError("cell2d must be two linearly independent 3-vectors, shape (2, 3)")
    ref = None
    if reference_positions is not None:
        ref = _check_positions(reference_positions, "reference_positions")
        if ref.shape != pos.shape:
            raise ValueError(
                f"reference_positions must have the shape of positions {pos.shape}, got {ref.shape}"
            )
    ii, jj, sh, _, blocks = _screened_rows(pos, lattice, w, alpha, cutoff, cluster_radius, ref)
    ii, jj, sh, blocks = _symmetrise(ii, jj, sh, blocks)
    if cell2d is None:
        sh = np.zeros((len(ii), 2), dtype=int)
    return Pairs(i=ii, j=jj, shift=sh.astype(int), block=blocks)


def bulk_pairs(
    cell: np.ndarray,
    positions: np.ndarray,
    w: float,
    cutoff: float | None = None,
    cluster_radius: float | None = None,
    alpha=SCREENING_ALPHA,
) -> Pairs:
    """Real-space screened pairs of a 3D periodic crystal (the input of :func:`bloch_salpha`).

    Same construction as :func:`screened_pairs` with 3D periodicity: for every basis atom a
    cluster of radius ``cluster_radius`` is screened and the blocks S^α_{i, j+T} with
    |r_j + T − r_i| ≤ ``cutoff`` are kept and symmetrised over partners.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors as rows (length unit of ``w``).
    positions : array_like, shape (nb, 3)
        Cartesian basis positions.
    w : float
        Average Wigner–Seitz radius.
    cutoff : float, optional
        Pair range; default ``BLOCH_CUTOFF_W · w`` = 5.25 w (8 fcc shells).
    cluster_radius : float, optional
        Screening-cluster radius ≥ ``cutoff``; default
        ``cutoff`` + ``BLOCH_CLUSTER_MARGIN_W · w`` (6.4 w for the default cutoff).
    alpha : sequence of 3 floats
        Screening constants; default :data:`SCREENING_ALPHA`.

    Returns
    -------
    Pairs
        With ``shift`` of shape (npairs, 3): the column atom sits at
        positions[j] + shift @ cell.
    """
    w = _check_w(w)
    lattice = np.asarray(cell, dtype=float)
    if lattice.shape != (3, 3) or abs(np.linalg.det(lattice)) < 1e-12:
        raise ValueError("cell must be a non-singular (3, 3) array of lattice vectors (rows)")
    pos = _check_positions(positions)
    alpha = _check_alpha(alpha)
    cutoff = _range(cutoff, BLOCH_CUTOFF_W, w, "cutoff")
    if cluster_radius is None:
        cluster_radius = cutoff + BLOCH_CLUSTER_MARGIN_W * w
    cluster_radius = _range(cluster_radius, 0.0, w, "cluster_radius")
    if cutoff > cluster_radius:
        raise ValueError(f"cutoff ({cutoff}) must not exceed cluster_radius ({cluster_radius})")
    ii, jj, sh, _, blocks = _screened_rows(pos, lattice, w, alpha, cutoff, cluster_radius)
    ii, jj, sh, blocks = _symmetrise(ii, jj, sh, blocks)
    return Pairs(i=ii, j=jj, shift=sh.astype(int), block=blocks)


def bloch_salpha(
    cell: np.ndarray,
    positions: np.ndarray,
    kpoints: np.ndarray,
    w: float,
    cutoff: float | None = None,
    alpha=SCREENING_ALPHA,
    cluster_radius: float | None = None,
) -> np.ndarray:
    """Bulk Bloch-summed screened structure constants S^α(k) of a 3D crystal.

    S^α_{iL, jL'}(k) = Σ_T e^{ik·T} S^α_{iL, (j+T)L'} over lattice translations T with
    |r_j + T − r_i| ≤ ``cutoff``; the real-space blocks come from :func:`bulk_pairs`
    (screening a cluster of radius ``cluster_radius`` around each basis atom, symmetrised
    over partner pairs), so S^α(k) is Hermitian.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors as rows (length unit of ``w``; Å in the transport code).
    positions : array_like, shape (nb, 3)
        Cartesian basis positions.
    kpoints : array_like, shape (nk, 3) or (3,)
        Cartesian k-points in inverse length units (1/Å), phase e^{ik·T}.
    w : float
        Average Wigner–Seitz radius.
    cutoff : float, optional
        Pair range; default ``BLOCH_CUTOFF_W · w`` = 5.25 w (8 fcc shells).
    alpha : sequence of 3 floats
        Screening constants; default :data:`SCREENING_ALPHA`.
    cluster_radius : float, optional
        Screening-cluster radius ≥ ``cutoff``; default
        ``cutoff`` + ``BLOCH_CLUSTER_MARGIN_W · w`` (6.4 w for the default cutoff).

    Returns
    -------
    numpy.ndarray, shape (nk, 9 nb, 9 nb), complex
        Orbital index 9 · atom + L.
    """
    k = np.asarray(kpoints, dtype=float)
    if k.ndim == 1:
        k = k[None]
    if k.ndim != 2 or k.shape[1] != 3 or not np.all(np.isfinite(k)):
        raise ValueError(f"kpoints must have shape (nk, 3) or (3,), got {np.shape(kpoints)}")
    pairs = bulk_pairs(cell, positions, w, cutoff, cluster_radius, alpha)
    return bloch_sum(pairs, np.asarray(cell, dtype=float), k, len(np.asarray(positions)))


def bloch_sum(pairs: Pairs, lattice: np.ndarray, kpoints: np.ndarray, natoms: int) -> np.ndarray:
    """Σ_shift e^{ik·(shift @ lattice)} block over a pair set.

    Parameters
    ----------
    pairs : Pairs
        Pair set with ``shift`` of shape (npairs, p).
    lattice : numpy.ndarray, shape (p, 3)
        Lattice vectors (rows) that ``shift`` refers to (p = 2 for :func:`screened_pairs`
        with ``cell2d``, 3 for :func:`bulk_pairs`).
    kpoints : numpy.ndarray, shape (nk, 3)
        Cartesian k-points (inverse length unit of ``lattice``).
    natoms : int
        Number of atoms indexed by ``pairs.i``/``pairs.j``.

    Returns
    -------
    numpy.ndarray, shape (nk, 9 natoms, 9 natoms), complex
        Orbital index 9 · atom + L; Hermitian for a Hermitian pair set and real k.
    """
    lattice = np.asarray(lattice, dtype=float)
    k = np.atleast_2d(np.asarray(kpoints, dtype=float))
    if lattice.ndim != 2 or lattice.shape[1] != 3 or pairs.shift.shape[1:] != lattice.shape[:1]:
        raise ValueError("lattice must be (p, 3) with p = pairs.shift.shape[1]")
    if k.shape[1] != 3:
        raise ValueError(f"kpoints must have shape (nk, 3), got {k.shape}")
    nb = int(natoms)
    if nb <= max(int(pairs.i.max()), int(pairs.j.max())):
        raise ValueError("natoms is smaller than the largest atom index in pairs")
    phases = np.exp(1j * (k @ (pairs.shift @ lattice).T))  # (nk, npairs)
    npairs = len(pairs.i)
    slot = (pairs.i * nb + pairs.j)[:, None] * 81 + np.arange(81)[None, :]
    wmat = scipy.sparse.csr_matrix(
        (pairs.block.reshape(-1), (np.repeat(np.arange(npairs), 81), slot.reshape(-1))),
        shape=(npairs, nb * nb * 81),
    )
    out = np.asarray((wmat.T @ phases.T).T)  # (nk, nb*nb*81)
    return out.reshape(-1, nb, nb, 9, 9).transpose(0, 1, 3, 2, 4).reshape(-1, 9 * nb, 9 * nb)
