"""kmap must re-raise a failure of one rank on every rank instead of hanging.

Item 3 raises; with 2 ranks it is computed on rank 1. Every rank records
``rank=<r> caught=<message>``; rank 0 gathers and prints one line per rank (a single
writer, so the lines are not interleaved by the MPI launcher's output forwarding).
"""

from tbmto.parallel import kmap, world_comm


def func(i):
    if i == 3:
        raise ArithmeticError("deliberate failure")
    return i * i


def main():
    comm = world_comm()
    rank = 0 if comm is None else comm.Get_rank()
    try:
        kmap(func, range(6), progress=False)
    except RuntimeError as exc:
        line = f"rank={rank} caught={exc}"
    else:
        line = f"rank={rank} caught=nothing"
    lines = [line] if comm is None else comm.gather(line, root=0)
    if rank == 0:
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
