"""A job where rank 1 fails; rank 0 keeps calling collectives (test_faults.py).

    python faults.py raise|stuck
"""

import sys
import time

import chainrule as cr
import chainrule.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
t = cr.ones(4)
for step in range(1000):
    if rank == 1 and step == 3:
        if mode == "raise":
            raise RuntimeError("simulated failure in the data pipeline")
        if mode == "stuck":
            time.sleep(120)  # alive but never joins the next collective
    dist.all_reduce(t)
print("unreachable: rank", rank, "finished", flush=True)
