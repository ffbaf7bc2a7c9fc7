"""Scalar-relativistic radial Schrödinger (Koelling–Harmon) equation on a logarithmic mesh.

Rydberg units (ħ = 1, 2m = 1, e² = 2), c = 274.072 (= 2 × 137.036). With g(r) the large
component, P = r g and Q = r g' / (2M), M(r) = 1 + (E − V(r))/c², the scalar-relativistic
equations without spin–orbit (Koelling & Harmon, J. Phys. C 10, 3107 (1977)) read

    dP/dr = 2 M Q + P / r,
    dQ/dr = −Q / r + ½ [ l(l+1) / (M r²) + V − E ] P,

which reduces to −P'' + [l(l+1)/r² + V − E] P = 0 for c → ∞. The small component is
r f = 2Q/c, so the normalisation is ∫ (P² + 4Q²/c²) dr = 1 and the logarithmic derivative of
the large component at radius s is D = s g'/g = 2 M(s) s Q(s)/P(s).

Integration is classical fourth-order Runge–Kutta in x = ln r with the potential at the
half-steps from a cubic spline of r V. Because the equations are linear, each RK4 step is a
2 × 2 transfer matrix; all of them are built at once (vectorised over states and mesh points)
and applied in one short loop. Nodes are counted on the fly from sign changes of P.
Near the nucleus P ∝ r^γ, γ = √(l(l+1) + 1 − (2Z/c)²) (γ = l + 1 non-relativistically).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesh import LogMesh

C_LIGHT_RY: float = 274.072
"""Speed of light in Rydberg atomic units (2/α)."""

NONRELATIVISTIC: float = np.inf
"""Pass as ``c`` to solve the non-relativistic Schrödinger equation."""


def _as_batch(mesh: LogMesh, v, l, e):
    v = np.asarray(v, float)
    l = np.atleast_1d(np.asarray(l, float))
    e = np.atleast_1d(np.asarray(e, float))
    b = max(l.size, e.size, 1 if v.ndim == 1 else v.shape[0])
    if v.ndim == 1:
        v = np.broadcast_to(v, (b, mesh.n))
    if v.shape != (b, mesh.n):
        raise ValueError(f"potential must have shape ({mesh.n},) or (batch, {mesh.n}), "
                         f"got {v.shape}")
    return v, np.broadcast_to(l, (b,)), np.broadcast_to(e, (b,))


def _coefficients(r, v, l, e, c):
    """a = 2 M r and b = ½ r [l(l+1)/(M r²) + V − E] of dP/dx = P + aQ, dQ/dx = −Q + bP."""
    m = 1.0 + (e[:, None] - v) / c**2 if np.isfinite(c) else np.ones_like(v)
    a = 2.0 * m * r
    b = 0.5 * r * ((l * (l + 1.0))[:, None] / (m * r * r) + v - e[:, None])
    return a, b


def _rk4_transfer(h, a0, b0, am, bm, a1, b1):
    """2 × 2 RK4 transfer matrices for y' = A(x) y, A = [[1, a], [b, −1]]; shape (..., 2, 2).

    T = 1 + h/6 (K1 + 2K2 + 2K3 + K4), K1 = A0, K2 = Am(1 + h/2 K1), K3 = Am(1 + h/2 K2),
    K4 = A1(1 + h K3), written out component by component.
    """
    def mul(p, q):  # p, q: tuples (xx, xy, yx, yy)
        return (p[0] * q[0] + p[1] * q[2], p[0] * q[1] + p[1] * q[3],
                p[2] * q[0] + p[3] * q[2], p[2] * q[1] + p[3] * q[3])

    def eye_plus(f, k):
        return (1.0 + f * k[0], f * k[1], f * k[2], 1.0 + f * k[3])

    one = np.ones_like(a0)
    k1 = (one, a0, b0, -one)
    amid = (one, am, bm, -one)
    k2 = mul(amid, eye_plus(0.5 * h, k1))
    k3 = mul(amid, eye_plus(0.5 * h, k2))
    k4 = mul((one, a1, b1, -one), eye_plus(h, k3))
    t = np.empty(a0.shape + (2, 2))
    for idx, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        t[..., i, j] = (i == j) + (h / 6.0) * (k1[idx] + 2.0 * k2[idx] + 2.0 * k3[idx] + k4[idx])
    return t


def _grid_and_mid(mesh: LogMesh, v, l, e, c):
    a, b = _coefficients(mesh.r[None, :], v, l, e, c)
    vmid = mesh.at_mid(v * mesh.r) / mesh.r_mid
    am, bm = _coefficients(mesh.r_mid[None, :], vmid, l, e, c)
    return a, b, am, bm


def _start_exponent(mesh: LogMesh, v, l, c):
    z = np.maximum(-0.5 * mesh.r[0] * v[:, 0], 0.0)
    if np.isfinite(c):
        return np.sqrt(np.maximum(l * (l + 1.0) + 1.0 - (2.0 * z / c) ** 2, 1e-6))
    return l + 1.0


def integrate_outward(mesh: LogMesh, v, l, e, c: float = C_LIGHT_RY, stop=None, v_extra=None):
    """Integrate the radial equation outward from the nucleus.

    Parameters
    ----------
    mesh : LogMesh
    v : array_like, shape (n,) or (batch, n)
        Potential V(r) in Ry (including −2Z/r).
    l : int or array_like (batch,)
        Angular momentum.
    e : float or array_like (batch,)
        Energy in Ry.
    c : float
        Speed of light (Ry units); ``NONRELATIVISTIC`` for the Schrödinger equation.
    stop : array_like of int (batch,), optional
        Last mesh index to integrate to (values beyond are frozen); default: the whole mesh.
    v_extra : array_like, shape (n,) or (batch, n), optional
        Extra potential (Ry) added to V in the b coefficient only, b = ½ r [l(l+1)/(M r²) +
        V + v_extra − E], but not in M (e.g. κ ξ(r) of a j = l ± ½ spin–orbit channel);
        at the half-steps it is taken from a cubic spline of r v_extra. Default: none
        (results bitwise unchanged).

    Returns
    -------
    p, q : ndarray, shape (batch, n)
        Unnormalised P = r g and Q = r g'/(2M).
    nodes : ndarray of int, shape (batch,)
        Number of sign changes of P up to ``stop``.
    """
    v, l, e = _as_batch(mesh, v, l, e)
    nb = v.shape[0]
    stop = (np.full(nb, mesh.n - 1) if stop is None
            else np.broadcast_to(np.asarray(stop, int), (nb,)))
    a, b, am, bm = _grid_and_mid(mesh, v, l, e, c)
    if v_extra is not None:
        vx = np.asarray(v_extra, float)
        try:
            vx = np.broadcast_to(vx, (nb, mesh.n))
        except ValueError as exc:
            raise ValueError(f"v_extra must have shape ({mesh.n},) or ({nb}, {mesh.n}), "
                             f"got {vx.shape}") from exc
        b = b + 0.5 * mesh.r * vx
        bm = bm + 0.5 * mesh.at_mid(vx * mesh.r)
    t = _rk4_transfer(mesh.h, a[:, :-1], b[:, :-1], am, bm, a[:, 1:], b[:, 1:])
    active = np.arange(mesh.n - 1)[None, :] < stop[:, None]
    t[~active] = np.eye(2)
    t = np.ascontiguousarray(np.moveaxis(t, 1, 0))  # (n-1, batch, 2, 2)
    gam = _start_exponent(mesh, v, l, c)
    r0 = mesh.r[0]
    m0 = 1.0 + (e - v[:, 0]) / c**2 if np.isfinite(c) else np.ones(nb)
    p = np.empty((mesh.n, nb))
    q = np.empty((mesh.n, nb))
    p[0] = 1e-10 * np.ones(nb)
    q[0] = (gam - 1.0) * p[0] / (2.0 * m0 * r0)
    nodes = np.zeros(nb, dtype=int)
    pc, qc = p[0].copy(), q[0].copy()
    t00, t01, t10, t11 = (np.ascontiguousarray(t[:, :, i, j]) for i, j in
                          ((0, 0), (0, 1), (1, 0), (1, 1)))
    for i in range(mesh.n - 1):
        pn = t00[i] * pc + t01[i] * qc
        qn = t10[i] * pc + t11[i] * qc
        nodes += (pn * pc < 0.0)
        p[i + 1], q[i + 1] = pn, qn
        pc, qc = pn, qn
        if i % 4 == 3 and np.max(np.abs(pc)) > 1e100:
            # rescale states that grew large (P/Q and node counts are unaffected)
            big = np.abs(pc) > 1e100
            p[: i + 2, big] *= 1e-100
            q[: i + 2, big] *= 1e-100
            pc, qc = p[i + 1].copy(), q[i + 1].copy()
    return p.T.copy(), q.T.copy(), nodes


def integrate_inward(mesh: LogMesh, v, l, e, start, stop, c: float = C_LIGHT_RY):
    """Integrate inward from index ``start`` (decaying boundary condition) down to ``stop``.

    At the start P = 1, P' = −κ P with κ = √(V + l(l+1)/r² − E) (local WKB decay).
    Returns p, q of shape (batch, n), zero above ``start`` and frozen below ``stop``.
    """
    v, l, e = _as_batch(mesh, v, l, e)
    nb = v.shape[0]
    start = np.broadcast_to(np.asarray(start, int), (nb,))
    stop = np.broadcast_to(np.asarray(stop, int), (nb,))
    a, b, am, bm = _grid_and_mid(mesh, v, l, e, c)
    # backward step i: from x_{i+1} to x_i
    t = _rk4_transfer(-mesh.h, a[:, 1:], b[:, 1:], am, bm, a[:, :-1], b[:, :-1])
    idx = np.arange(mesh.n - 1)[None, :]
    active = (idx + 1 <= start[:, None]) & (idx >= stop[:, None])
    t[~active] = np.eye(2)
    t = np.ascontiguousarray(np.moveaxis(t, 1, 0))
    rs = mesh.r[start]
    vs = v[np.arange(nb), start]
    w = vs + l * (l + 1.0) / rs**2 - e
    kappa = np.sqrt(np.maximum(w, 1e-8))
    ms = 1.0 + (e - vs) / c**2 if np.isfinite(c) else np.ones(nb)
    p = np.zeros((mesh.n, nb))
    q = np.zeros((mesh.n, nb))
    pc = np.full(nb, 1e-30)
    qc = (-kappa * pc - pc / rs) / (2.0 * ms)
    t00, t01, t10, t11 = (np.ascontiguousarray(t[:, :, i, j]) for i, j in
                          ((0, 0), (0, 1), (1, 0), (1, 1)))
    p[-1], q[-1] = pc, qc
    for i in range(mesh.n - 2, -1, -1):
        pn = t00[i] * pc + t01[i] * qc
        qn = t10[i] * pc + t11[i] * qc
        p[i], q[i] = pn, qn
        pc, qc = pn, qn
        if i % 4 == 0 and np.max(np.abs(pc)) > 1e100:
            big = np.abs(pc) > 1e100
            p[i:, big] *= 1e-100
            q[i:, big] *= 1e-100
            pc, qc = p[i].copy(), q[i].copy()
    # above the start point the solution is zero (transfer matrices there are identities)
    above = np.arange(mesh.n)[:, None] > start[None, :]
    p[above] = 0.0
    q[above] = 0.0
    return p.T.copy(), q.T.copy()


def norm_density(p, q, c: float = C_LIGHT_RY):
    """Radial density P² + (r f)² = P² + 4Q²/c² (per unit r)."""
    if np.isfinite(c):
        return p * p + 4.0 * q * q / c**2
    return p * p


@dataclass
class BoundStates:
    """Result of :func:`bound_states`.

    Attributes
    ----------
    energy : ndarray (batch,)
        Eigenvalues in Ry.
    p, q : ndarray (batch, n)
        Normalised P = r g and Q with ∫ (P² + 4Q²/c²) dr = 1.
    converged : ndarray of bool (batch,)
    """

    energy: np.ndarray
    p: np.ndarray
    q: np.ndarray
    converged: np.ndarray


def bound_states(mesh: LogMesh, v, n, l, c: float = C_LIGHT_RY, e_guess=None,
                 tol: float = 1e-10, max_iter: int = 200) -> BoundStates:
    """Bound eigenstates (n, l) of the radial equation by shooting with node counting.

    Outward integration to the outermost classical turning point r_m, inward integration from
    deep in the forbidden region (∫ κ dr = 45 beyond r_m), matching of P at r_m. With the
    correct number of nodes (n − l − 1) the energy is corrected by the first-order formula
    δE = 2 M(r_m) P(r_m) [Q_out(r_m) − Q_in(r_m)] / ∫ P² dr, otherwise it is bisected inside a
    bracket that is narrowed every step. Vectorised over the batch of states.

    Parameters
    ----------
    mesh : LogMesh
    v : array_like (n_mesh,) or (batch, n_mesh)
        Potential in Ry.
    n, l : array_like of int (batch,)
        Principal and angular quantum numbers, n > l ≥ 0.
    c : float
        Speed of light (``NONRELATIVISTIC`` for Schrödinger).
    e_guess : array_like, optional
        Starting energies (Ry); default −Z²/n² capped.
    tol : float
        Convergence of the eigenvalue, |δE| < tol · max(1, |E|) (Ry).
    max_iter : int

    Returns
    -------
    BoundStates
    """
    n = np.atleast_1d(np.asarray(n, int))
    l = np.atleast_1d(np.asarray(l, int))
    if np.any(l < 0) or np.any(n <= l):
        raise ValueError(f"quantum numbers must satisfy n > l >= 0, got n={n}, l={l}")
    v, lb, _ = _as_batch(mesh, v, l, np.zeros(max(n.size, l.size)))
    nb = v.shape[0]
    n = np.broadcast_to(n, (nb,))
    r = mesh.r
    weff = v + (lb * (lb + 1.0))[:, None] / r**2
    z_nuc = np.maximum(-0.5 * r[0] * v[:, 0], 1.0)
    # no bound state lies below −1.5 Z² Ry (Dirac 1s of Z = 92 is −1.35 Z²)
    e_lo = np.maximum(weff.min(axis=1), -1.5 * z_nuc**2)
    e_hi = np.full(nb, max(0.0, float(np.max(v[:, -1]))))
    z = np.maximum(-0.5 * r[0] * v[:, 0], 1.0)
    if e_guess is None:
        e = np.clip(-(z / n) ** 2, e_lo + 1e-6, -1e-3)
    else:
        e = np.clip(np.asarray(e_guess, float), e_lo + 1e-9, e_hi - 1e-9)
    target = n - lb.astype(int) - 1
    done = np.zeros(nb, bool)
    pout = qout = None
    for _ in range(max_iter):
        allowed = weff < e[:, None]
        allowed[:, :5] = False
        rm = np.where(allowed.any(axis=1), mesh.n - 1 - np.argmax(allowed[:, ::-1], axis=1),
                      mesh.n // 2)
        rm = np.clip(rm, 10, mesh.n - 3)
        kap = np.sqrt(np.maximum(weff - e[:, None], 0.0))
        kap[np.arange(mesh.n)[None, :] < rm[:, None]] = 0.0
        cum = mesh.cumulative(kap)
        js = np.where((cum > 45.0).any(axis=1), np.argmax(cum > 45.0, axis=1), mesh.n - 1)
        js = np.maximum(js, rm + 2)
        pout, qout, nodes = integrate_outward(mesh, v, lb, e, c, stop=rm)
        pin, qin = integrate_inward(mesh, v, lb, e, js, rm, c)
        idx = np.arange(nb)
        scale = pout[idx, rm] / pin[idx, rm]
        pin *= scale[:, None]
        qin *= scale[:, None]
        below = np.arange(mesh.n)[None, :] <= rm[:, None]
        p = np.where(below, pout, pin)
        q = np.where(below, qout, qin)
        norm = mesh.integrate(norm_density(p, q, c))
        m_rm = 1.0 + (e - v[idx, rm]) / c**2 if np.isfinite(c) else np.ones(nb)
        de = 2.0 * m_rm * pout[idx, rm] * (qout[idx, rm] - qin[idx, rm]) / norm
        too_many = nodes > target
        too_few = nodes < target
        ok = ~(too_many | too_few)
        e_hi = np.where(too_many | (ok & (de < 0)), np.minimum(e_hi, e), e_hi)
        e_lo = np.where(too_few | (ok & (de > 0)), np.maximum(e_lo, e), e_lo)
        newton = e + de
        inside = (newton > e_lo) & (newton < e_hi)
        # wrong node count: step by 20 % of |E| towards the right side, or bisect if closer
        step = 0.2 * np.abs(e) + 0.05
        down = np.maximum(e - step, 0.5 * (e_lo + e_hi))
        up = np.minimum(e + step, 0.5 * (e_lo + e_hi))
        e_new = np.where(ok & inside, newton,
                         np.where(too_many, down, np.where(too_few, up, 0.5 * (e_lo + e_hi))))
        done = ok & (np.abs(de) < tol * np.maximum(1.0, np.abs(e)))
        e = np.where(done, e, e_new)
        if done.all():
            break
    p = p / np.sqrt(norm)[:, None]
    q = q / np.sqrt(norm)[:, None]
    sign = np.sign(p[np.arange(nb), 5])
    return BoundStates(energy=e, p=p * sign[:, None], q=q * sign[:, None], converged=done)
