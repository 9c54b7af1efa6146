"""notestream: live piano transcription. See README.md."""

import os

__version__ = "0.1.0"

# GNU OpenMP threads (torch's CPU kernels) spin 300 000 iterations at each barrier before they sleep; where other
# programs hold the cores, that spinning eats our time slices (a 5-minute file: 29-51 s instead of 6 s, two
# background jobs on two cores; 14 s with 10 000). On an idle machine it is within run-to-run noise (`bench speed
# --minutes 10`, alternating: 55.0× and 56.3× against 58.6× and 55.5× with 300 000). Read when torch
# loads; a GOMP_SPINCOUNT or OMP_WAIT_POLICY of the user's own wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
