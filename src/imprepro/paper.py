"""The paper's headline numbers (Table 1 of the official IMP README), for the report.

Zero-shot top-1 accuracy in percent. These are the numbers an audit compares against; the
embedded default suite is far too small to reproduce them (see the report's statement).
"""

PAPER_BENCHMARKS = ("IN1k", "C100", "K400", "K600", "K700", "UCF101", "HMDB51", "ESC50")

TABLE_1 = {
    "IMP-B": {"params_per_token": "86M", "IN1k": 80.5, "C100": 82.4, "K400": 63.6, "K600": 62.1, "K700": 49.9, "UCF101": 64.2, "HMDB51": 39.7, "ESC50": 32.8},
    "IMP-MoE-B": {"params_per_token": "90M", "IN1k": 83.2, "C100": 84.9, "K400": 68.2, "K600": 65.7, "K700": 52.1, "UCF101": 88.7, "HMDB51": 46.6, "ESC50": 47.8},
    "IMP-MoE-L": {"params_per_token": "350M", "IN1k": 83.9, "C100": 87.0, "K400": 77.0, "K600": 76.8, "K700": 68.3, "UCF101": 91.5, "HMDB51": 59.1, "ESC50": 65.1},
}
