"""``python -m centerloss demo`` end to end on a tiny run."""

import json

from PIL import Image

from centerloss.apps.cli import main
from centerloss.recipe import TrainingConfig

GIF_LIMIT = 3 * 2**20  # bytes: small enough for a README or a slide


def test_demo_end_to_end(tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["demo", "--epochs", "1", "--output", str(output)]) == 0
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
    assert report["dataset"] == {"name": "embedded", "train": 4000, "test": 1000}
    assert report["settings"]["epochs"] == 1
    lambdas = [run["lambda"] for run in report["runs"].values()]
    assert lambdas == [0.0, TrainingConfig().lambda_]
    for run in report["runs"].values():
        assert set(run["test_metrics"]) >= {"accuracy", "spread_ratio", "silhouette"}
        assert len(run["history"]["val_accuracy"]) == 1
        assert run["training_seconds"] > 0
    gif = output / "features_over_epochs.gif"
    assert gif.stat().st_size < GIF_LIMIT
    with Image.open(gif) as frames:
        assert frames.n_frames == 2  # epoch 0 and epoch 1
        width, height = frames.size
        assert width > 1.8 * height  # both runs side by side
    printed = capsys.readouterr().out
    assert "intra/inter ratio" in printed and "softmax only (λ=0)" in printed
    # Each run is named before it trains; captured (not a terminal), its progress is one
    # plain line per quarter of the epochs, here the one epoch, and no "\r" updates.
    lambda_ = TrainingConfig().lambda_
    assert "Run 1/2: softmax only (λ=0)\n" in printed
    assert f"Run 2/2: softmax + center loss (λ={lambda_:g})\n" in printed
    assert "\r" not in printed
    assert printed.count(" · epoch 1/1 · loss ") == 2
    assert f"\nsoftmax + center loss (λ={lambda_:g}) · epoch 1/1 · loss " in printed
    assert "after 1 epoch (" in printed and "1 epochs" not in printed
