import os

# Sleep rather than spin while waiting at OpenMP barriers: on a machine shared with other
# work, spinning threads slow small tensor operations down many times over. This must be
# set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
