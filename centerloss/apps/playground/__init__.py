"""The playground: change λ, α and the data set, press Train, watch and compare short runs."""

from centerloss.apps.playground.app import (
    Playground,
    PlaygroundRun,
    Settings,
    datasets_available,
    playground_data,
    poster,
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
