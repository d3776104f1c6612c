"""imprepro: a data-to-leaderboard reproduction pipeline for IMP (Akbari et al., NeurIPS 2023).

Stages (each a thin command of ``imprepro``): download -> prepare -> vocab -> tokenize ->
train -> select -> evaluate -> report.
"""

__version__ = "0.1.0"
