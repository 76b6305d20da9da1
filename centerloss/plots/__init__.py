"""Figures of deep features, class centers and training curves (being split into modules)."""

from centerloss.plots.epochs import *  # noqa: F403
from centerloss.plots.epochs import _frame_positions  # noqa: F401
