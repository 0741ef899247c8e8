"""Run every library on one thread; imported by run.py before NumPy, JAX or PyTorch load.

On a small machine the thread pools of OpenBLAS, XLA and PyTorch (which keep spinning after
their work is done) fight each other for the cores and make timings swing by 10x. One thread each
keeps the comparison about differentiation rather than thread scheduling. Variables the user has
already set are left alone.
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
if "XLA_FLAGS" not in os.environ:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
