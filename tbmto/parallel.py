"""k∥-point parallelism over MPI ranks with rank-count-independent results.

:func:`kmap` evaluates ``func`` on every item (typically a k∥ point), distributing the
items round-robin over the ranks of an MPI communicator, and returns the complete
list of results in item order on every rank. Because each item is computed by one
rank exactly as it would be serially and the caller reduces the returned list in item
order, a k-summed quantity is bitwise identical for any number of ranks (given
deterministic single-threaded BLAS, e.g. ``OMP_NUM_THREADS=1``).

mpi4py is imported lazily; without it (or with a world of one rank) the map runs
serially in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

from tbmto.errors import PhysicsError

__all__ = ["kmap", "world_comm"]

T = TypeVar("T")
R = TypeVar("R")


def world_comm() -> Any | None:
    """``mpi4py.MPI.COMM_WORLD`` if mpi4py is importable, else ``None`` (serial)."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError):
        return None
    return MPI.COMM_WORLD


def kmap(
    func: Callable[[T], R],
    items: Iterable[T],
    comm: Any | None = None,
    progress: bool = True,
    desc: str = "k-points",
) -> list[R]:
    """Map ``func`` over ``items`` in parallel over MPI ranks; results in item order.

    Parameters
    ----------
    func : callable
        Pure function of one item (e.g. a k∥ point → transmission). Results must be
        picklable when more than one rank is used.
    items : iterable
        Items to evaluate; item i is computed on rank ``i % size``.
    comm : mpi4py communicator, optional
        Communicator; ``MPI.COMM_WORLD`` when None (serial if mpi4py is unavailable).
    progress : bool
        Show a tqdm progress bar (rank 0 only, over its own share of the items; tqdm
        switches it off by itself when stderr is not a terminal).
    desc : str
        Progress-bar label.

    Returns
    -------
    list
        ``[func(item) for item in items]`` on every rank.

    Raises
    ------
    ValueError
        If ``func`` is not callable or ``comm`` lacks the communicator interface.
    RuntimeError
        On every rank, if ``func`` raised on any rank (the message names the item and rank);
        a :class:`tbmto.errors.PhysicsError` when one of the failures was one, so that a
        physics failure on another rank keeps its kind (and its exit status in ``tbmto``).
    """
    if not callable(func):
        raise ValueError(f"func must be callable, got {type(func).__name__}")
    items = list(items)
    if comm is None:
        comm = world_comm()
    if comm is not None and not all(hasattr(comm, a) for a in ("Get_size", "Get_rank", "allgather")):
        raise ValueError("comm must be an mpi4py communicator (Get_size, Get_rank, allgather)")
    size = 1 if comm is None else comm.Get_size()
    rank = 0 if comm is None else comm.Get_rank()
    if size == 1:
        return [func(x) for x in tqdm(items, desc=desc, disable=None if progress else True)]

    mine = range(rank, len(items), size)
    local: list[tuple[int, Any]] = []
    error: tuple[str, bool] | None = None  # (message, is a PhysicsError)
    show = progress and rank == 0
    bar = tqdm(total=len(mine), desc=f"{desc} (rank 0 of {size})", disable=None if show else True)
    for i in mine:
        try:
            local.append((i, func(items[i])))
        except Exception as exc:  # re-raised on all ranks below, so no rank hangs
            error = (f"item {i} on rank {rank}: {type(exc).__name__}: {exc}", isinstance(exc, PhysicsError))
            break
        bar.update(1)
    bar.close()
    gathered = comm.allgather((error, local))
    errors = [e for e, _ in gathered if e is not None]
    if errors:
        kind = PhysicsError if any(physics for _, physics in errors) else RuntimeError
        raise kind("kmap: func failed for " + "; ".join(msg for msg, _ in errors))
    results: list[Any] = [None] * len(items)
    for _, part in gathered:
        for i, value in part:
            results[i] = value
    return results
