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
