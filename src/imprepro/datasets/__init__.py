"""TFDS builders for the embedded default suite (stage 2, prepare).

Every builder reads the files unpacked by the download stage from its manual folder
(``data/raw``) and writes a TFDS dataset with fixed, hash-based train/validation/test splits.
"""
