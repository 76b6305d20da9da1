"""The command line: options, help and errors."""

import pytest

from centerloss.cli import main


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
