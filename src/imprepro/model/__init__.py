"""The IMP encoder: modality embeddings, a shared Transformer with MoE layers, projection heads."""

from imprepro.model.config import ModelConfig
from imprepro.model.imp import IMPModel

__all__ = ["IMPModel", "ModelConfig"]
