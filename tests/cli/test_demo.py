"""The README's first command: `python -m hector_nb demo`."""

import subprocess
import sys


def test_demo_runs_in_a_terminal():
    result = subprocess.run([sys.executable, "-m", "hector_nb", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Output that is not a terminal gets no progress bars (redrawn with \r, they run together in a log).
    assert "\r" not in result.stderr and "it/s" not in result.stderr
    out = result.stdout
    assert "Echo: hector_nb runs Hector plugins in a notebook\n[done: 8 tokens" in out
    assert "indexing 652 standard-library docstrings" in out
    assert "shutil.move" in out and "== cosine (in-kernel) beside euclidean (subprocess)" in out
    recall = out.split("recall@5 against cosine: ", 1)[1].splitlines()
    assert recall[0].startswith("share of the reference's returned top-k hits")
    assert [line.split() for line in recall[1:5]] == [["recall@5"], ["database"], ["cosine", "1.0"],
                                                      ["euclidean", "1.0"]]
    assert "euclidean database_provider subprocess" in out


def test_help_and_bad_usage():
    help_text = subprocess.run([sys.executable, "-m", "hector_nb", "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    assert "demo" in help_text
    bad = subprocess.run([sys.executable, "-m", "hector_nb", "frobnicate"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice: 'frobnicate'" in bad.stderr
