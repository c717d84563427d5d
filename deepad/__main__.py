import os

# numpy's BLAS works on small arrays here (metrics, collapse numbers); with a thread per core it
# spins against torch's threads, which do the training. One thread for it, unless set.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from deepad.cli import run_command_line

run_command_line()
