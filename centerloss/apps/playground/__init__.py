"""The playground: choose a loss, λ, α and the data set, press Train, watch and compare short runs.

Its modules: ``runs`` (a run without widgets: :class:`Settings`,
:func:`train_run`), ``table`` (the metrics table) and ``app`` (the widget app).
"""

from centerloss.apps.playground.app import Playground, poster
from centerloss.apps.playground.runs import (
    PlaygroundRun,
    Settings,
    datasets_available,
    playground_data,
    train_run,
)

__all__ = [
    "Playground",
    "PlaygroundRun",
    "Settings",
    "datasets_available",
    "playground_data",
    "poster",
    "train_run",
]
