"""Tests of the content-addressed lead-mode cache (tbmto.wfm.cache) and its use by transport.

The magnetic species "Ni" of the transport tests is FICTITIOUS test data (spin-split Cu
parameters of tests/data/cu_rslmto.json, the `pot_mag` fixture of tests/conftest.py), not real Ni.
"""

import dataclasses
import json
import os

import numpy as np
import pytest

from tbmto.structure import build_stack
from tbmto.transport import compute as _compute
from tbmto.wfm import LeadModeCache, LeadModes, lead_modes, smatrix, smatrix_from_modes
from tbmto.wfm.cache import lead_modes_key, load_lead_modes, save_lead_modes


def compute(*args, **kwargs):
    """``tbmto.transport.compute`` with the orthogonal SOC form: these tests use parameter-only
    species (the published Cu parameters and a fictitious spin-split Cu), for which the exact
    single-site form (the default) has no spherical potential to solve."""
    kwargs.setdefault("soc_form", "orthogonal")
    return _compute(*args, **kwargs)

A = 3.614


def _lead(n=6, seed=0, rank=None, real=False):
    """Random Hermitian h (scaled so the lead has propagating modes at E = 0) and hopping v."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n)) + (0 if real else 1j) * rng.normal(size=(n, n))
    h = 0.3 * (a + a.conj().T)
    v = rng.normal(size=(n, n)) + (0 if real else 1j) * rng.normal(size=(n, n))
    if rank is not None:  # MTO-like: hopping with zero rows/columns (singular)
        v[rank:, :] = 0.0
        v[:, rank:] = 0.0
    return h, v


def _assert_bitwise(a: LeadModes, b: LeadModes):
    for f in dataclasses.fields(LeadModes):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "energy":
            assert type(y) is float and x == y
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, f.name
        assert x.tobytes() == y.tobytes(), f.name


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("kw", [dict(), dict(rank=3), dict(real=True, seed=2)])
def test_disk_round_trip_is_bitwise(tmp_path, kw, compress):
    h, v = _lead(**kw)
    ref = lead_modes(h, v, 0.1)
    assert ref.n_modes > 0  # a lead with propagating channels (non-trivial u, λ, velocities)
    path = tmp_path / "modes.npz"
    save_lead_modes(path, ref, key="abc", compress=compress)
    back = load_lead_modes(path, key="abc")
    _assert_bitwise(ref, back)
    assert not back.u_right.flags.writeable  # shared cache entries are read-only
    with pytest.raises(ValueError, match="key"):
        load_lead_modes(path, key="other")
    # the reloaded modes give bitwise the same S-matrix
    hs, vs = [h], [v, v]
    s1 = smatrix_from_modes(ref, ref, hs, vs).S
    s2 = smatrix_from_modes(back, back, hs, vs).S
    assert s1.tobytes() == s2.tobytes()
    assert np.allclose(s1.conj().T @ s1, np.eye(s1.shape[0]), atol=1e-10)


def test_hit_after_miss_memory_and_disk(tmp_path):
    h, v = _lead(rank=4)
    cache = LeadModeCache(tmp_path)
    m1, src1 = cache.lookup(h, v, 0.1, name="left lead")
    m2, src2 = cache.lookup(h, v, 0.1)
    assert (src1, src2) == ("computed", "memory") and m2 is m1
    assert cache.stats["misses"] == 1 and cache.hits == 1 and cache.stats["disk_writes"] == 1
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [lead_modes_key(h, v, 0.1) + ".npz"]  # no temporary file left behind
    fresh = LeadModeCache(os.fspath(tmp_path))  # e.g. the next Snakemake job
    m3 = fresh.get_or_compute(h, v, 0.1)
    assert fresh.stats["disk_hits"] == 1 and fresh.misses == 0
    _assert_bitwise(m1, m3)
    _assert_bitwise(lead_modes(h, v, 0.1), m3)
    # the caller's blocks are neither aliased nor frozen by the cache
    assert h.flags.writeable and not np.shares_memory(m1.h, h)


def test_key_depends_on_exact_inputs():
    h, v = _lead()
    k0 = lead_modes_key(h, v, 0.1)
    h2 = h.copy()
    h2[0, 0] = np.nextafter(h2[0, 0].real, 1.0)  # one ulp on a diagonal element (still Hermitian)
    assert lead_modes_key(h2, v, 0.1) != k0
    assert lead_modes_key(h, v, np.nextafter(0.1, 1.0)) != k0
    assert lead_modes_key(h, v, 0.1, prop_tol=2e-6) != k0
    assert lead_modes_key(h, v, 0.1, method="qz") != k0
    # same content → same key: explicit defaults, label, integer-valued energy type
    assert lead_modes_key(h, v, 0.1, prop_tol=1e-6, method="auto", name="right lead") == k0
    hr, vr = _lead(real=True)
    assert lead_modes_key(hr, vr, 0) == lead_modes_key(hr.astype(complex), vr.astype(complex), 0.0)
    with pytest.raises(ValueError, match="options"):
        lead_modes_key(h, v, 0.1, tolerance=1e-3)


def test_different_h_is_a_miss(tmp_path):
    h, v = _lead()
    cache = LeadModeCache(tmp_path)
    a = cache.get_or_compute(h, v, 0.1)
    b = cache.get_or_compute(h + 0.01 * np.eye(h.shape[0]), v, 0.1)
    assert cache.misses == 2 and cache.hits == 0 and len(list(tmp_path.glob("*.npz"))) == 2
    assert not np.array_equal(a.self_energy_right, b.self_energy_right)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_key", "empty", "flipped"])
def test_damaged_file_is_a_miss_and_rewritten(tmp_path, damage):
    h, v = _lead(rank=4)
    cache = LeadModeCache(tmp_path)
    good = cache.get_or_compute(h, v, 0.1)
    path = cache.path_for(lead_modes_key(h, v, 0.1))
    raw = path.read_bytes()
    if damage == "truncate":  # a partial write (e.g. a killed non-atomic copy)
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip archive" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flipped":  # bit rot inside the compressed data (CRC/zlib error)
        mid = bytearray(raw)
        for i in range(len(raw) // 3, len(raw) // 3 + 64):
            mid[i] ^= 0xFF
        path.write_bytes(bytes(mid))
    else:  # a valid archive of another lead stored under this name
        other = lead_modes(*_lead(seed=5), 0.1)
        save_lead_modes(path, other, key=path.stem)
    fresh = LeadModeCache(tmp_path)
    again = fresh.get_or_compute(h, v, 0.1)
    assert fresh.stats["disk_errors"] == 1 and fresh.misses == 1 and fresh.stats["disk_writes"] == 1
    _assert_bitwise(good, again)
    third = LeadModeCache(tmp_path)  # the rewritten file is good again
    _assert_bitwise(good, third.get_or_compute(h, v, 0.1))
    assert third.stats["disk_hits"] == 1 and third.stats["disk_errors"] == 0


def test_memory_bound_evicts_least_recent():
    cache = LeadModeCache(max_memory_items=2)
    leads = [_lead(seed=s) for s in range(3)]
    for h, v in leads:
        cache.get_or_compute(h, v, 0.1)
    assert len(cache) == 2 and cache.misses == 3
    cache.get_or_compute(*leads[2], 0.1)  # most recent: still in memory
    cache.get_or_compute(*leads[0], 0.1)  # evicted (memory only, no directory) → recomputed
    assert cache.stats["memory_hits"] == 1 and cache.misses == 4
    tiny = LeadModeCache(max_memory_bytes=10)  # an entry larger than the budget is not kept
    tiny.get_or_compute(*leads[0], 0.1)
    assert len(tiny) == 0


def test_invalid_arguments(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="directory"):
        LeadModeCache(f)
    with pytest.raises(ValueError, match="max_memory_items"):
        LeadModeCache(max_memory_items=-1)
    with pytest.raises(ValueError, match="h_lead"):
        LeadModeCache().get_or_compute(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="modes"):
        save_lead_modes(tmp_path / "x.npz", "not modes")
    # a lead at a band edge raises like lead_modes and caches nothing
    h = np.zeros((1, 1))
    v = -np.ones((1, 1))
    cache = LeadModeCache(tmp_path / "c")
    with pytest.raises(ValueError, match="band edge|zero velocity|Jordan|inconsistent"):
        cache.get_or_compute(h, v, 2.0)
    assert len(cache) == 0 and not list((tmp_path / "c").iterdir())


# ---------------------------------------------------------------- transport with the cache


def test_transport_with_cache_is_bitwise_identical(tmp_path, pot_mag):
    atoms = build_stack("001", (1, 1), layers=3, lattice_constant=A, composition={"Ni": 0.5, "Cu": 0.5},
                        seed=1, lead_layers=2, magnetization=(0.6, 0.0, 0.8))
    kw = dict(kmesh=(3, 2), damping=True, soc=True, progress=False)
    ref = compute(atoms, pot_mag, **kw)
    assert ref.lead_cache is None
    cold = compute(atoms, pot_mag, lead_cache=tmp_path, **kw)
    warm = compute(atoms, pot_mag, lead_cache=LeadModeCache(os.fspath(tmp_path)), **kw)
    for r in (cold, warm):
        assert r.G_e2h == ref.G_e2h and r.damping_T == ref.damping_T
        assert r.transmission_k == ref.transmission_k and r.damping_k == ref.damping_k
        assert (r.n_modes_left, r.n_modes_right) == (ref.n_modes_left, ref.n_modes_right)
    assert ref.G_e2h > 0 and ref.damping_T > 0
    # odd L: the right lead starts at the other [001] stacking registry, so its blocks differ
    # from the left lead's → 2 lookups per k∥, 12 computed leads, then 12 disk hits
    assert cold.lead_cache["lookups"] == 12 and cold.lead_cache["misses"] == 12 and cold.lead_cache["hits"] == 0
    assert warm.lead_cache["disk_hits"] == 12 and warm.lead_cache["misses"] == 0
    assert len(list(tmp_path.glob("*.npz"))) == 12
    # the leads do not depend on the slab magnetisation: a rotated slab reuses every entry
    mem = LeadModeCache(tmp_path)
    atoms2 = atoms.copy()
    atoms2.arrays["magmom_dir"][:] = (0.0, 0.0, 1.0)
    first = compute(atoms2, pot_mag, lead_cache=mem, **kw)
    second = compute(atoms2, pot_mag, lead_cache=mem, **kw)
    assert first.lead_cache["disk_hits"] == 12 and second.lead_cache["memory_hits"] == 12
    assert first.transmission_k == second.transmission_k
    json.dumps(first.to_dict())
    with pytest.raises(ValueError, match="lead_cache"):
        compute(atoms, pot_mag, lead_cache=3, **kw)


def test_transport_identical_leads_one_lookup_per_k(tmp_path, pot_mag):
    # even L: both leads have the same blocks at every k∥ → one lookup (as smatrix solves once);
    # the per-k path (a 1x1 cell without damping would otherwise be batched, without leads)
    atoms = build_stack("001", (1, 1), layers=2, lattice_constant=A, composition={"Ni": 1.0}, lead_layers=2)
    kw = dict(kmesh=(2, 2), soc=True, progress=False, batched=False)
    ref = compute(atoms, pot_mag, **kw)
    cold = compute(atoms, pot_mag, lead_cache=tmp_path, **kw)
    warm = compute(atoms, pot_mag, lead_cache=tmp_path, **kw)
    assert cold.transmission_k == ref.transmission_k == warm.transmission_k
    assert cold.lead_cache["lookups"] == cold.lead_cache["misses"] == 4
    assert warm.lead_cache["hits"] == warm.lead_cache["disk_hits"] == 4 and warm.lead_cache["misses"] == 0


def test_smatrix_from_cached_modes_equals_smatrix(tmp_path):
    h, v = _lead(rank=4)
    hs = [h + 0.05 * np.eye(6), h]
    vs = [v, v, v]
    cache = LeadModeCache(tmp_path)
    lead = cache.get_or_compute(h, v, 0.1, name="left lead")
    a = smatrix(h, v, hs, vs, h, v, energy=0.1)
    b = smatrix_from_modes(lead, lead, hs, vs)
    assert a.S.tobytes() == b.S.tobytes()


def test_cli_transport_lead_cache(tmp_path, pot_mag):
    from tbmto.cli import main
    from tbmto.io import write_structure

    atoms = build_stack("001", (1, 1), layers=2, lattice_constant=A, composition={"Ni": 1.0}, lead_layers=2)
    s = tmp_path / "s.extxyz"
    write_structure(atoms, s)
    pots = [os.fspath(p) for p in pot_mag.sources]
    cache = tmp_path / "cache" / "leads"
    common = ["transport", "--structure", os.fspath(s), "--potentials", *pots, "--kmesh", "2",
              "--magnetization", "perp", "--no-progress", "--linearisation", "band_centre",
              "--soc-form", "orthogonal", "--no-batched"]
    assert main([*common, "--out", os.fspath(tmp_path / "a.json")]) == 0
    assert main([*common, "--lead-cache", os.fspath(cache), "--out", os.fspath(tmp_path / "b.json")]) == 0
    assert main([*common, "--lead-cache", os.fspath(cache), "--out", os.fspath(tmp_path / "c.json")]) == 0
    a, b, c = (json.loads((tmp_path / f"{x}.json").read_text())["result"] for x in "abc")
    assert a["lead_cache"] is None and a["transmission_k"] == b["transmission_k"] == c["transmission_k"]
    assert b["lead_cache"]["misses"] == 4 and c["lead_cache"]["disk_hits"] == 4
    assert c["lead_cache"]["directory"] == os.fspath(cache) and len(list(cache.glob("*.npz"))) == 4
    bad = tmp_path / "a.json"  # an existing file is not a usable cache directory
    assert main([*common, "--lead-cache", os.fspath(bad), "--out", os.fspath(tmp_path / "d.json")]) == 2
