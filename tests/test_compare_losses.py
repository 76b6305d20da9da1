"""``python -m centerloss compare-losses``: its options, its report and what it writes.

The training itself is each loss's ``recipe.train`` path (tests/test_margins.py,
tests/test_recipe.py); here ``compare`` is replaced by a fixed result so that the
report can be checked number by number.
"""

import json

import pytest

from centerloss.apps import compare_losses
from centerloss.apps.cli import main

RESULTS = {
    "2-D": {
        "softmax": {"accuracy": [0.9, 0.8], "angular_spread": [7.0, 9.0]},
        "ArcFace": {"accuracy": [0.8, 0.85], "angular_spread": [11.0, 8.0]},
    },
    "32-D, held-out 8 and 9": {
        "softmax": {"held_out_auc": [0.9, 0.9]},
        "ArcFace": {"held_out_auc": [0.9, 0.95]},
    },
}


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--seeds", "0", "0"], ["--seeds must be distinct"]),
        (["--seeds", "-1"], ["each --seeds value", "from 0 to"]),
        (["--epochs", "0"], ["--epochs", "positive"]),
    ],
)
def test_bad_options_are_refused_before_training(argv, words, tmp_path, capsys):
    assert main(["compare-losses", *argv, "--output", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("centerloss: error: ") and error.count("\n") == 1
    for word in words:
        assert word in error


def test_markdown_gives_mean_spread_and_seeds_won():
    text = compare_losses.markdown(RESULTS, [0, 1], 8)
    # Mean ± sample standard deviation, then seeds where the loss was best of all:
    assert "| softmax | 0.850 ± 0.071 (1) | 8.000 ± 1.414 (1) |" in text
    # lower angular spread is better: ArcFace best on seed 1 only
    assert "| ArcFace | 0.825 ± 0.035 (1) | 9.500 ± 2.121 (1) |" in text
    assert "| softmax | 0.900 ± 0.000 (1) |" in text  # a tie (seed 0) counts for both
    assert "| ArcFace | 0.925 ± 0.035 (2) |" in text
    assert "Seeds 0, 1; 8 epochs per run" in text


def test_the_command_writes_json_and_markdown(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compare_losses, "compare", lambda seeds, epochs, quiet: RESULTS)
    output = tmp_path / "out"
    argv = ["compare-losses", "--seeds", "0", "1", "--epochs", "3", "--output", str(output)]
    assert main(argv) == 0
    report = json.loads((output / "results.json").read_text())
    assert report["seeds"] == [0, 1] and report["epochs"] == 3
    assert report["results"] == RESULTS
    assert (output / "results.md").read_text() == compare_losses.markdown(RESULTS, [0, 1], 3)
    assert "Written to" in capsys.readouterr().out
