"""The command line: options, help, errors, and what it prints around TensorFlow's start-up."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest
import tensorflow as tf

import centerloss
from centerloss.apps import runtime
from centerloss.apps.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]

# What TensorFlow 2.21 writes to file descriptor 2 while it starts, whatever
# TF_CPP_MIN_LOG_LEVEL says (the last two only below level 1).
STARTUP_LINES = (
    "All log messages before absl::InitializeLog",
    "oneDNN custom operations",
    "Could not find cuda drivers",
    "cuInit",
    "cpu_feature_guard",
)
# absl's native log prefix: severity, MMDD, then a time or a counter ("E0000 00:00:...").
NATIVE_LOG_LINE = re.compile(r"^[IWEF]\d{4} ", re.MULTILINE)


def run_python(*args, verbose=None, tf_log_level=None, timeout=300):
    """Run ``python *args`` from the repository root as a user would; return the process."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CENTERLOSS_VERBOSE", "TF_CPP_MIN_LOG_LEVEL")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if verbose is not None:
        env["CENTERLOSS_VERBOSE"] = verbose
    if tf_log_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = tf_log_level
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def startup_lines_in(text):
    return [marker for marker in STARTUP_LINES if marker in text]


# Options are checked before TensorFlow starts, and errors name the flag typed.


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--alpha", "2"], ["--alpha", "(0, 1]"]),
        (["--alpha", "0"], ["--alpha", "(0, 1]"]),
        (["--lambda", "-1"], ["--lambda", ">= 0"]),
        (["--lambda", "inf"], ["--lambda", ">= 0"]),
        (["--lambda", "0"], ["--lambda must be > 0"]),
        (["--epochs", "0"], ["--epochs", "positive"]),
        (["--batch-size", "0"], ["--batch-size", "positive"]),
        (["--learning-rate", "0"], ["--learning-rate", "> 0"]),
        (["--learning-rate", "nan"], ["--learning-rate", "> 0"]),
        (["--seed", "-1"], ["--seed", "from 0 to 4294967295"]),
        (["--seed", str(2**32)], ["--seed", "from 0 to 4294967295"]),
        (["--dataset", "no-such-data"], ["--dataset", "embedded", "mnist", "fashion-mnist"]),
    ],
)
def test_bad_options_give_one_line_that_names_the_flag(argv, words, tmp_path, capsys):
    assert main(["demo", *argv, "--output", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("centerloss: error: ")
    assert captured.err.count("\n") == 1, captured.err
    for word in words:
        assert word in captured.err
    for python_name in ("lambda_", "random_state", "learning_rate", "batch_size"):
        assert python_name not in captured.err
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize(
    "argv, words",
    [
        (["demo", "--alpha", "abc"], ["argument --alpha", "'abc'", "demo --help"]),
        (["demo", "--network", "resnet"], ["argument --network", "lenet++"]),
        (["demo", "--no-such-flag"], ["--no-such-flag", "--help"]),
        ([], ["choose a command", "demo"]),
    ],
)
def test_parse_errors_are_one_line_too(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("centerloss: error: ")
    assert error.count("\n") == 1, error
    for word in words:
        assert word in error


def test_output_that_is_a_file_is_refused_and_left_alone(tmp_path, capsys):
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")
    assert main(["demo", "--output", str(existing)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("centerloss: error: --output ") and "is a file" in error
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_output_that_cannot_be_created_or_written_is_refused(where, tmp_path, capsys):
    # Tests may run as root, whom file modes do not stop: use paths no one can write.
    if where == "under_a_file":
        (tmp_path / "a-file").write_text("")
        folder = tmp_path / "a-file" / "out"
    else:
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        folder = Path("/proc")  # exists, is a folder, takes no new files
    assert main(["demo", "--output", str(folder)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"centerloss: error: --output {folder}: cannot create or write")
    assert error.count("\n") == 1


def test_output_folder_is_created_by_the_check(tmp_path):
    folder = tmp_path / "new" / "nested"
    args = build_parser().parse_args(["demo", "--output", str(folder)])
    args.check(args)
    assert folder.is_dir() and list(folder.iterdir()) == []  # the write probe left nothing


def test_help_and_errors_do_not_import_tensorflow(tmp_path):
    (tmp_path / "a-file").write_text("")
    cases = [
        ["--help"],
        ["demo", "--help"],
        [],
        ["demo", "--alpha", "2"],
        ["demo", "--seed", "-1"],
        ["demo", "--dataset", "no-such-data"],
        ["demo", "--output", str(tmp_path / "a-file")],
        ["demo", "--no-such-flag"],
    ]
    script = (
        "import json, sys\n"
        "from centerloss.apps.cli import main\n"
        "results = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        code = main(argv)\n"
        "    except SystemExit as exit_:\n"
        "        code = exit_.code\n"
        "    results.append([code, 'tensorflow' in sys.modules, 'keras' in sys.modules])\n"
        "print(json.dumps(results))\n"
    )
    process = run_python("-c", script, json.dumps(cases))
    assert process.returncode == 0, process.stderr
    results = json.loads(process.stdout.splitlines()[-1])
    assert [code for code, _, _ in results] == [0, 0, 2, 2, 2, 2, 2, 2]
    for argv, (_, tensorflow_imported, keras_imported) in zip(cases, results, strict=True):
        assert not tensorflow_imported and not keras_imported, argv


@pytest.mark.parametrize(
    "argv, verbose",
    [(["demo"], False), (["--verbose", "demo"], True), (["demo", "--verbose"], True)],
)
def test_verbose_is_accepted_before_and_after_the_command(argv, verbose):
    assert build_parser().parse_args(argv).verbose is verbose


def test_verbose_flag_reaches_the_import(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(runtime, "import_tensorflow", lambda verbose=None: asked.append(verbose))
    empty = tmp_path / "empty"
    empty.mkdir()
    for flag in ([], ["--verbose"]):
        assert main(["demo", "--dataset", str(empty), "--output", str(tmp_path), *flag]) == 2
    # None: the CENTERLOSS_VERBOSE variable decides (tested below).
    assert asked == [None, True]


# TensorFlow's start-up lines are hidden; what comes later is not.


def test_cli_shows_no_startup_lines_but_a_later_error(tmp_path):
    # An empty folder passes the option checks, so TensorFlow starts; then
    # loading the data fails: a genuine error written to stderr after start-up.
    empty = tmp_path / "empty"
    empty.mkdir()
    process = run_python(
        "-m", "centerloss", "demo", "--dataset", str(empty), "--output", str(tmp_path / "out")
    )
    assert process.returncode == 2
    assert process.stderr.startswith(f"centerloss: error: No MNIST-format data in {empty}: ")
    assert process.stderr.count("\n") == 1, process.stderr
    assert startup_lines_in(process.stderr) == []
    assert not NATIVE_LOG_LINE.search(process.stderr)


def test_verbose_shows_the_startup_lines_again(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    process = run_python(
        *["-m", "centerloss", "demo", "--dataset", str(empty), "--output", str(tmp_path / "o")],
        verbose="1",
    )
    assert process.returncode == 2
    assert startup_lines_in(process.stderr), process.stderr
    last = process.stderr.splitlines()[-1]
    assert last.startswith(f"centerloss: error: No MNIST-format data in {empty}: ")


def test_native_warning_after_startup_still_reaches_stderr():
    # TF_CPP_MIN_LOG_LEVEL=0: TensorFlow logs everything, so start-up is at its
    # noisiest. Then tf.data's C++ cache kernel warns (a real misuse: the
    # cache is read only partly): that later native line must get through.
    script = (
        "import sys, tempfile\n"
        "from centerloss.apps import runtime\n"
        "tf = runtime.import_tensorflow()\n"
        "print('imported', file=sys.stderr, flush=True)\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    for _ in tf.data.Dataset.range(10).cache(folder + '/cache').take(3):\n"
        "        pass\n"
    )
    process = run_python("-c", script, tf_log_level="0")
    assert process.returncode == 0, process.stderr
    before, after = process.stderr.split("imported\n", 1)
    assert before == ""
    assert "did not fully read the dataset being cached" in after
    assert startup_lines_in(process.stderr) == []


def test_hidden_lines_are_replayed_when_the_import_fails():
    # No TensorFlow needed: the mechanism, with a native write and a failing import.
    script = (
        "import os\n"
        "from centerloss.apps import runtime\n"
        "with runtime._native_stderr_hidden():\n"
        "    os.write(2, b'hidden while all goes well\\n')\n"
        "with runtime._native_stderr_hidden():\n"
        "    os.write(2, b'replayed because the import failed\\n')\n"
        "    raise ImportError('no such library')\n"
    )
    process = run_python("-c", script)
    assert process.returncode == 1
    assert "hidden while all goes well" not in process.stderr
    replayed = process.stderr.index("replayed because the import failed")
    assert process.stderr.index("ImportError: no such library") > replayed


def test_version_names_versions_and_accelerators_without_startup_lines():
    process = run_python("-m", "centerloss", "--version")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    lines = process.stdout.splitlines()
    assert lines[0] == f"centerloss {centerloss.__version__}"
    assert lines[1].startswith(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python ")
    gpus = tf.config.list_physical_devices("GPU")
    assert lines[2] == "GPU: " + (", ".join(gpu.name for gpu in gpus) if gpus else "none found")
    assert lines[3] == f"CPU: {runtime.cpu_model()}, {len(os.sched_getaffinity(0))} usable cores"
    assert lines[4].startswith("CPU bfloat16 instructions: ")


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
        "--batch-size",
        "--learning-rate",
        "--seed",
        "--output",
        "--quiet",
        "--verbose",
    ):
        assert option in text
    assert "lambda_" not in text  # the Python name of --lambda
