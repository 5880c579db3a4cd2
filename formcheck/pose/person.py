"""What a pose backend hands back for each person in a frame, and a count of
the models loaded in this process (pose.chunks forks its workers only before
the first, so they share no native state)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Person:
    image: np.ndarray  # (33, 3): x, y normalised to the frame, z on the x scale
    visibility: np.ndarray  # (33,)
    presence: np.ndarray  # (33,)
    world: np.ndarray  # (33, 3) metres
    mask: np.ndarray | None = None  # (h, w) float in 0..1


_loaded = [0]


def count_model() -> None:
    _loaded[0] += 1


def models_loaded() -> int:
    return _loaded[0]
