"""``python -m centerloss demo`` end to end on a tiny run."""

import json

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
