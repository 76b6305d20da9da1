"""The command line, end to end on a tiny run, and its errors."""

import json

import pytest
from PIL import Image

from centerloss.cli import main
from centerloss.experiment import TrainingConfig


def test_demo_end_to_end(tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["demo", "--epochs", "1", "--output", str(output), "--quiet"]) == 0
    expected = {
        "comparison.png",
        "trajectories.png",
        "epochs.png",
        "features_over_epochs.gif",
        "metrics.json",
        "snapshots_softmax.npz",
        "snapshots_center_loss.npz",
    }
    assert {p.name for p in output.iterdir()} == expected  # and no temporary files left over
    report = json.loads((output / "metrics.json").read_text())
    assert report["dataset"] == "embedded"
    assert report["settings"]["epochs"] == 1
    lambdas = [run["lambda"] for run in report["runs"].values()]
    assert lambdas == [0.0, TrainingConfig().lambda_]
    for run in report["runs"].values():
        assert set(run["test_metrics"]) >= {"accuracy", "spread_ratio", "silhouette"}
        assert len(run["history"]["val_accuracy"]) == 1
    with Image.open(output / "features_over_epochs.gif") as gif:
        assert gif.n_frames == 2  # epoch 0 and epoch 1
    printed = capsys.readouterr().out
    assert "intra/inter ratio" in printed and "softmax only (λ=0)" in printed


@pytest.mark.parametrize(
    "argv, words",
    [
        (["demo", "--alpha", "2"], ["alpha", "(0, 1]"]),
        (["demo", "--lambda", "-1"], ["lambda_", ">= 0"]),
        (["demo", "--lambda", "0"], ["--lambda must be > 0"]),
        (["demo", "--dataset", "no-such-data"], ["embedded", "mnist", "fashion-mnist"]),
        (["demo", "--epochs", "0"], ["epochs", "positive"]),
    ],
)
def test_bad_options_give_one_clear_line(argv, words, tmp_path, capsys):
    assert main([*argv, "--output", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("centerloss: error:")
    for word in words:
        assert word in error
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--dataset",
        "--network",
        "--epochs",
        "--lambda",
        "--alpha",
        "--seed",
        "--output",
    ):
        assert option in text
