"""matplotlib for the benchmarks' plots, if it is installed (the ``bench`` extra)."""

from __future__ import annotations


def pyplot(path):
    """``matplotlib.pyplot`` on the Agg backend, or None after saying that the
    plot ``path`` is skipped: the CSVs and tables do without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print(f"matplotlib is not installed: no plot {path} (pip install -e '.[bench]')")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


if __name__ == "__main__":
    raise SystemExit(__doc__.splitlines()[0] + "\n"
                     "A module of bench_peers.py, bench_bank.py and bench_river_streams.py, not a "
                     "script: run one of them (see BENCHMARKS.md).")
