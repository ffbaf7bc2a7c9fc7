"""Input validation for the wave-function-matching engine.

Every check raises :class:`ValueError` whose message names the offending argument
(and block index) and states what is allowed, so that a caller assembling the
block-tridiagonal secular matrix K = E − H from another model (e.g. the MTO
K = P^α − S^α) gets an actionable message instead of a silent wrong S-matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse

#: Relative tolerance for Hermiticity of onsite blocks: max|H − H†| ≤ tol · max(1, max|H|).
HERMITIAN_RTOL = 1e-9


def as_matrix(x: object, name: str) -> np.ndarray:
    """Return ``x`` as a finite complex128 2-D array.

    Parameters
    ----------
    x : array_like
        Candidate matrix block.
    name : str
        Argument name used in the error message (e.g. ``"h_slab[3]"``).

    Returns
    -------
    numpy.ndarray
        Complex 2-D array (a copy only when a conversion is needed).

    Raises
    ------
    ValueError
        If ``x`` is not 2-D numeric or contains NaN/inf.
    """
    try:
        a = np.asarray(x, dtype=np.complex128)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric 2-D array, got {type(x).__name__}") from exc
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf entries")
    return a


def as_operator(x: object, name: str):
    """:func:`as_matrix`, or — for a ``scipy.sparse`` input (e.g. a block-diagonal on-site
    ∂H/∂θ) — a finite complex CSR matrix, which the solver multiplies without densifying."""
    if scipy.sparse.issparse(x):
        a = x if x.dtype == np.complex128 else x.astype(np.complex128)
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array, got shape {a.shape}")
        if not np.all(np.isfinite(a.data)):
            raise ValueError(f"{name} contains NaN or inf entries")
        return a
    return as_matrix(x, name)


def check_hermitian(a: np.ndarray, name: str, rtol: float = HERMITIAN_RTOL) -> None:
    """Raise ``ValueError`` unless ``a`` is square and Hermitian within ``rtol``.

    Parameters
    ----------
    a : numpy.ndarray
        Square block (energy units of the model, e.g. Ry).
    name : str
        Argument name for the message.
    rtol : float
        Allowed max|a − a†| relative to max(1, max|a|).
    """
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be square, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name} must have at least one orbital, got shape {a.shape}")
    if scipy.sparse.issparse(a):
        # A x = A† x for a fixed random x ⟺ A = A† (with probability 1); O(nnz), no sparse temporaries
        x = np.random.default_rng(0).normal(size=a.shape[1])
        scale = max(1.0, float(np.max(np.abs(a.data), initial=0.0)))
        err = float(np.max(np.abs(a @ x - a.conj().T @ x), initial=0.0)) / float(np.max(np.abs(x)))
    else:
        scale = max(1.0, float(np.max(np.abs(a))))
        err = float(np.max(np.abs(a - a.conj().T)))
    if err > rtol * scale:
        raise ValueError(
            f"{name} must be Hermitian: max|H - H^dagger| = {err:.3e} exceeds "
            f"{rtol:.1e} * {scale:.3e}"
        )


def check_shape(a: np.ndarray, shape: tuple[int, int], name: str, what: str) -> None:
    """Raise ``ValueError`` unless ``a.shape == shape``; ``what`` explains the expectation."""
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({what}), got {a.shape}")


def check_energy(energy: object) -> float:
    """Return the energy as a real float, rejecting complex or non-finite values.

    The flux normalisation of the lead modes and the unitarity of S require a real
    energy (retarded boundary conditions are imposed through the mode selection, not
    through an imaginary part).
    """
    if np.ndim(energy) != 0:
        raise ValueError(f"energy must be a real scalar, got shape {np.shape(energy)}")
    try:
        e = complex(np.asarray(energy).item())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"energy must be a real scalar, got {energy!r}") from exc
    if e.imag != 0.0:
        raise ValueError(f"energy must be real (got imaginary part {e.imag!r})")
    if not np.isfinite(e.real):
        raise ValueError(f"energy must be finite, got {e.real!r}")
    return float(e.real)


def validate_lead(h: object, v: object, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate one lead's onsite block ``h_<side>`` and hopping ``v_<side>``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(h, v)`` as complex arrays; ``v = H_{j,j+1}`` must be square with the size of ``h``.
    """
    h_arr = as_matrix(h, f"h_{side}")
    check_hermitian(h_arr, f"h_{side}")
    v_arr = as_matrix(v, f"v_{side}")
    n = h_arr.shape[0]
    check_shape(v_arr, (n, n), f"v_{side}", f"H_(j,j+1) between two {n}-orbital cells of the {side} lead")
    return h_arr, v_arr


def _sequence_length(seq: object, what: str, reject_array: bool = False) -> int:
    """len(seq), or ValueError(``what``) for a non-sequence (and, with ``reject_array``, for a
    single 2-D array passed where a sequence of blocks is expected)."""
    if reject_array and isinstance(seq, np.ndarray) and seq.ndim == 2:
        raise ValueError(f"{what}, got a single 2-D array")
    try:
        return len(seq)
    except TypeError as exc:
        raise ValueError(what) from exc


def validate_slab(
    h_slab: Sequence[object],
    v_slab: Sequence[object],
    n_left: int,
    n_right: int,
    dh_slab: Sequence[object] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray] | None]:
    """Validate the scattering-region blocks.

    Parameters
    ----------
    h_slab : sequence of M array_like
        Hermitian onsite blocks, sizes n_0 … n_{M−1}.
    v_slab : sequence of M+1 array_like
        ``v_slab[0]`` (n_left × n_0) = H_{last left cell, slab 0};
        ``v_slab[i]`` (n_{i−1} × n_i) = H_{slab i−1, slab i};
        ``v_slab[M]`` (n_{M−1} × n_right) = H_{slab M−1, first right cell}.
    n_left, n_right : int
        Block sizes of the leads.
    dh_slab : sequence of M array_like or scipy.sparse matrices, optional
        Hermitian ∂H/∂θ onsite blocks with the shapes of ``h_slab``.

    Returns
    -------
    tuple
        Lists of complex arrays ``(h, v, dh)`` (``dh`` None when not given).
    """
    m = _sequence_length(h_slab, "h_slab must be a sequence of M >= 1 square blocks", reject_array=True)
    if m < 1:
        raise ValueError("h_slab must contain at least one layer (M >= 1)")
    h = [as_matrix(b, f"h_slab[{i}]") for i, b in enumerate(h_slab)]
    for i, b in enumerate(h):
        check_hermitian(b, f"h_slab[{i}]")
    mv = _sequence_length(v_slab, "v_slab must be a sequence of M+1 coupling blocks")
    if mv != m + 1:
        raise ValueError(f"v_slab must have M+1 = {m + 1} blocks for M = {m} slab layers, got {mv}")
    sizes = [n_left] + [b.shape[0] for b in h] + [n_right]
    labels = ["left lead"] + [f"slab layer {i}" for i in range(m)] + ["right lead"]
    v = []
    for i, b in enumerate(v_slab):
        a = as_matrix(b, f"v_slab[{i}]")
        check_shape(a, (sizes[i], sizes[i + 1]), f"v_slab[{i}]", f"H between {labels[i]} and {labels[i + 1]}")
        v.append(a)
    dh = None
    if dh_slab is not None:
        md = _sequence_length(dh_slab, "dh_slab must be a sequence of M onsite blocks")
        if md != m:
            raise ValueError(f"dh_slab must have M = {m} blocks (one per slab layer), got {md}")
        dh = validate_onsite_derivatives(dh_slab, h, "dh_slab", "h_slab")
    return h, v, dh


def validate_onsite_derivatives(blocks: Sequence[object], h: Sequence[np.ndarray], name: str,
                                h_name: str) -> list:
    """Hermitian ∂h_i/∂θ blocks with the shapes of the onsite blocks ``h`` (dense or
    ``scipy.sparse``); messages name ``name[i]`` and ``h_name[i]``."""
    out = []
    for i, b in enumerate(blocks):
        a = as_operator(b, f"{name}[{i}]")
        check_shape(a, h[i].shape, f"{name}[{i}]", f"same as {h_name}[{i}]")
        check_hermitian(a, f"{name}[{i}]")
        out.append(a)
    return out


def validate_dv_slab(dv_slab: Sequence[object] | None, v: Sequence[np.ndarray]) -> list[np.ndarray | None] | None:
    """Validate the coupling derivatives ∂H_{i−1,i}/∂θ of the slab.

    Parameters
    ----------
    dv_slab : sequence of M+1 (array_like or None), or None
        ``dv_slab[i]`` = ∂v_slab[i]/∂θ with the shape of ``v_slab[i]``; None means zero.
        Entries 0 and M (couplings to the lead cells) must be None or exactly zero.
    v : sequence of M+1 numpy.ndarray
        Validated couplings (from :func:`validate_slab`), which fix the shapes.

    Returns
    -------
    list or None
        M+1 entries, complex arrays or None (zero; entries 0 and M are always None,
        as are all-zero blocks); None only when ``dv_slab`` is None.

    Raises
    ------
    ValueError
        Wrong length, a block that is not a finite 2-D array of the shape of
        ``v_slab[i]`` (the message names ``dv_slab[i]``), or a non-zero lead coupling
        derivative ``dv_slab[0]`` / ``dv_slab[M]``.
    """
    if dv_slab is None:
        return None
    mv = _sequence_length(dv_slab, "dv_slab must be a sequence of M+1 coupling blocks (or None)",
                          reject_array=True)
    m = len(v) - 1
    if mv != m + 1:
        raise ValueError(f"dv_slab must have M+1 = {m + 1} blocks for M = {m} slab layers, got {mv}")
    out: list[np.ndarray | None] = []
    for i, b in enumerate(dv_slab):
        if b is None:
            out.append(None)
            continue
        a = as_matrix(b, f"dv_slab[{i}]")
        check_shape(a, v[i].shape, f"dv_slab[{i}]", f"same as v_slab[{i}]")
        if i == 0 or i == m:
            if np.any(a != 0):
                side = "left" if i == 0 else "right"
                raise ValueError(
                    f"dv_slab[{i}] (coupling to the {side} lead cell) must be None or zero: derivatives "
                    "of the lead couplings are not supported (the lead cells are not rotated); "
                    "pad the slab with an unrotated buffer layer next to the lead"
                )
            out.append(None)
            continue
        out.append(a if np.any(a != 0) else None)
    return out
