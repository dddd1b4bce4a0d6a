"""Our online step against the peers, side by side in one process, by size.

For each size of ``bench_step.SIZES`` (the Reber net, 447 weights, up to about
150k weights), one core each (torch, XLA and OpenBLAS held to one thread):

==================  =========================================================
``learn_many``      ours, T steps in one compiled call (amortised per step)
``learn_one``       ours, one Python call per step, ``out=``
``numpy``           the same truncated step in NumPy (``numpy_step.py``)
``torch``           the same truncated step in torch tensor ops, float64
``torch LSTMCell``  typical online PyTorch: ``LSTMCell(n_in, C*S)`` + ``Linear``
                    + SGD, backward each step, state detached; float32.  A
                    different cell with its own weight count, timed for cost
``jax step``        the same truncated step, ``jax.jit``, called per step
``jax scan``        the same, ``jax.lax.scan`` over a chunk of steps
==================  =========================================================

The truncated peers are checked against ``OnlineLSTM`` (20 steps, rtol 1e-9)
before they are timed.  Every per-step loop reads its step's input from a
list made before timing (row views for ours and NumPy, tensors for torch
and JAX), so none pays for slicing an array inside the timed loop.  Workload as in ``bench_step.py``: dense inputs, a
target at every step, a reset every 100 steps.  Each figure is the median of
repeated timings, taken in rounds that run every competitor once (so a
change in the machine's load hits all alike); compilation (Numba, XLA) is
excluded.  A peer that is not
installed (``pip install -e ".[bench]"`` installs them all) is skipped.

Writes ``benchmarks/results/peers.csv`` and the plot
``benchmarks/results/peers.png`` (ns per weight-step against size); with ``--quick``, the
same names in ``benchmarks/results/local/`` (git-ignored).

    python benchmarks/bench_peers.py [--quick] [--sizes reber,5k]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads spin and steal a core
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from online_lstm import OnlineLSTM  # noqa: E402
from online_lstm.cli import csv_out  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bench_step import SIZES, default_out, median_time, workload  # noqa: E402
from numpy_step import NumpyLSTM  # noqa: E402
from plotting import pyplot  # noqa: E402

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_JAX = importlib.util.find_spec("jax") is not None

#: Order and style of the plot.
IMPLS = ["learn_many", "learn_one", "numpy", "torch", "torch LSTMCell", "jax step", "jax scan"]


def calibrate(make_loop, budget):
    """``(loop, n)``: ``make_loop(n)`` with n chosen so that one run of the
    loop takes about ``budget`` seconds."""
    probe = make_loop(3)
    probe()
    t = median_time(probe, 3) / 3
    n = int(min(200_000, max(3, budget / max(t, 1e-9))))
    return make_loop(n), n


def interleaved(loops, repeats):
    """Median seconds per step of each loop, timed in rounds: every round runs
    every loop once, so that a change in the machine's load hits all
    competitors alike.  ``loops``: name -> (fn, steps); ``fn()`` runs
    ``steps`` steps, or returns an int k to say it ran ``k * steps``."""
    times = {name: [] for name in loops}
    for _ in range(repeats):
        for name, (fn, steps) in loops.items():
            t0 = time.perf_counter()
            k = fn()
            calls = k if type(k) is int else 1  # learn_many returns its outputs: one call
            times[name].append((time.perf_counter() - t0) / (steps * calls))
    return {name: float(np.median(v)) for name, v in times.items()}


def per_call(make_loop, budget, repeats):
    """Median seconds per step of a calibrated loop (one competitor alone)."""
    loop, n = calibrate(make_loop, budget)
    return interleaved({"loop": (loop, n)}, repeats)["loop"]


def check(name, outs, ref):
    np.testing.assert_allclose(np.asarray(outs), ref, rtol=1e-9, atol=1e-12,
                               err_msg=f"{name} does not compute our step")


def bench_size(label, n_in, n_out, C, S, quick, peers):
    budget, repeats = (0.05, 3) if quick else (0.15, 9)
    rng = np.random.default_rng(0)
    make = lambda: OnlineLSTM(n_in, n_out, C, S, bias="all", init_range=0.1, lr=0.1, seed=0)  # noqa: E731
    m = make()
    W = m.layout.n_params
    T = int(min(200_000, max(2_000, 3e7 / W))) // (4 if quick else 1)
    X, Y, resets = workload(rng, T, n_in, n_out)
    ref_out = make().learn_many(X[:20], Y[:20], resets[:20])
    loops, weights = {}, {}

    def add(impl, loop_and_steps, n_params=W):
        loops[impl] = loop_and_steps
        weights[impl] = n_params

    # --- ours ---------------------------------------------------------------
    out = np.empty((T, n_out))
    m.learn_many(X[:100], Y[:100], resets[:100])
    add("learn_many", (lambda: m.learn_many(X, Y, resets, out=out), T))
    o1 = np.empty(n_out)
    # Every per-step loop takes its step's input from a list made beforehand
    # (row views here, tensors for torch), so that none of them pays for
    # slicing an array inside the timed loop and the others not.
    nt = min(20_000, T)
    xs, ys = list(X[:nt]), list(Y[:nt])

    def ours_one(n):
        def loop():
            for i in range(n):
                j = i % nt
                if resets[j]:
                    m.reset()
                m.learn_one(xs[j], ys[j], out=o1)
        return loop

    add("learn_one", calibrate(ours_one, budget))

    # --- NumPy --------------------------------------------------------------
    npl = NumpyLSTM(make())
    check("numpy", [npl.learn_one(X[i], Y[i]) for i in range(20)], ref_out)

    def numpy_loop(n):
        def loop():
            for i in range(n):
                j = i % nt
                if resets[j]:
                    npl.reset()
                npl.learn_one(xs[j], ys[j])
        return loop

    add("numpy", calibrate(numpy_loop, budget))

    # --- PyTorch ------------------------------------------------------------
    if "torch" in peers:
        import torch

        torch.set_num_threads(1)
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        tt = TorchTruncatedLSTM(make())
        with torch.no_grad():
            check("torch", [tt.learn_one(Xt[i], Yt[i]).numpy().copy() for i in range(20)], ref_out)
        txs, tys = list(Xt[:nt]), list(Yt[:nt])

        def torch_loop(n):
            def loop():
                with torch.no_grad():
                    for i in range(n):
                        if resets[i % nt]:
                            tt.reset()
                        tt.learn_one(txs[i % nt], tys[i % nt])
            return loop

        add("torch", calibrate(torch_loop, budget))
        cell = TorchLSTMCellOnline(n_in, C * S, n_out)
        xs32 = list(Xt[:nt].float().unsqueeze(1))
        ys32 = list(Yt[:nt].float().unsqueeze(1))

        def cell_loop(n):
            def loop():
                for i in range(n):
                    if resets[i % nt]:
                        cell.reset()
                    cell.learn_one(xs32[i % nt], ys32[i % nt])
            return loop

        add("torch LSTMCell", calibrate(cell_loop, budget), cell.n_params)

    # --- JAX ----------------------------------------------------------------
    if "jax" in peers:
        import jax
        import jax.numpy as jnp

        carry0, step = jax_truncated(make())
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
        Rj = jnp.asarray(resets, dtype=jnp.float64).at[0].set(0.0)
        scan = jax.jit(lambda c, xs: jax.lax.scan(step, c, xs))
        _, outs = scan(carry0, (Xj[:20], Yj[:20], Rj[:20]))
        check("jax scan", outs, ref_out)
        jstep = jax.jit(step)
        carry, outs = carry0, []
        for i in range(20):
            carry, yk = jstep(carry, (Xj[i], Yj[i], Rj[i]))
            outs.append(np.asarray(yk))
        check("jax step", outs, ref_out)
        nj = min(20_000, T)
        jxs, jys, jrs = list(Xj[:nj]), list(Yj[:nj]), list(Rj[:nj])
        state = {"c": carry0}

        def jax_loop(n):
            def loop():
                c = state["c"]
                for i in range(n):
                    c, yk = jstep(c, (jxs[i % nj], jys[i % nj], jrs[i % nj]))
                yk.block_until_ready()
                state["c"] = c
            return loop

        add("jax step", calibrate(jax_loop, budget))
        Tc = min(T, 20_000)
        chunk = (Xj[:Tc], Yj[:Tc], Rj[:Tc])
        scan(carry0, chunk)[1].block_until_ready()  # compile for this chunk length

        def scan_once():
            state["c"], outs = scan(state["c"], chunk)
            outs.block_until_ready()

        state["c"] = carry0
        add("jax scan", (scan_once, Tc))
    return [dict(size=label, impl=impl, n_params=weights[impl], ns_per_step=t * 1e9,
                 ns_per_weight_step=t * 1e9 / weights[impl])
            for impl, t in interleaved(loops, repeats).items()]


def plot(df, path):
    plt = pyplot(path)
    if plt is None:
        return False

    styles = {"learn_many": ("C0", "o", "-"), "learn_one": ("C0", "s", "--"),
              "numpy": ("C2", "^", "-"), "torch": ("C3", "v", "-"),
              "torch LSTMCell": ("C3", "x", ":"), "jax step": ("C1", "D", "--"),
              "jax scan": ("C1", "d", "-")}
    labels = {"learn_many": "online_lstm learn_many", "learn_one": "online_lstm learn_one (per call)",
              "numpy": "NumPy, same step", "torch": "PyTorch tensor ops, same step",
              "torch LSTMCell": "PyTorch LSTMCell+Linear+SGD (typical)",
              "jax step": "JAX jit, per step", "jax scan": "JAX lax.scan"}
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for impl in IMPLS:
        d = df[df.impl == impl].sort_values("n_params")
        if len(d):
            c, mk, ls = styles[impl]
            ax.plot(d.n_params, d.ns_per_weight_step, color=c, marker=mk, ls=ls, label=labels[impl])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weights")
    ax.set_ylabel("ns per weight-step (lower is better)")
    ax.set_title("One online training step, one core")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter timings")
    ap.add_argument("--sizes", default="", help="comma-separated labels of bench_step.SIZES")
    ap.add_argument("--skip", default="", help="comma-separated peers not to run (torch, jax)")
    ap.add_argument("--out", default=None,
                    help="CSV (default benchmarks/results/peers.csv; with --quick, "
                         "benchmarks/results/local/peers.csv)")
    args = ap.parse_args()
    args.out = args.out or default_out("peers.csv", args.quick)
    csv_out(ap, args.out)  # written at the end: a path that cannot be must fail before the run
    skip = set(filter(None, (p.strip() for p in args.skip.split(","))))
    if skip - {"torch", "jax"}:  # a misspelt peer would run after all, and take minutes
        ap.error(f"unknown --skip {sorted(skip - {'torch', 'jax'})}; choose from ['torch', 'jax']")
    peers = [p for p, ok in (("torch", HAVE_TORCH), ("jax", HAVE_JAX)) if ok and p not in skip]
    for p, ok in (("torch", HAVE_TORCH), ("jax", HAVE_JAX)):
        if not ok:
            print(f"{p} is not installed: skipped (pip install -e '.[bench]')")
    if HAVE_JAX:
        import jax

        jax.config.update("jax_enable_x64", True)
    wanted = set(filter(None, (s.strip() for s in args.sizes.split(","))))
    unknown = wanted - {s[0] for s in SIZES}
    if unknown:
        ap.error(f"unknown --sizes {sorted(unknown)}; choose from {[s[0] for s in SIZES]}")
    sizes = [s for s in SIZES if not wanted or s[0] in wanted]
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = lambda x, **k: x  # noqa: E731
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows = []
    for s in tqdm(sizes, desc="sizes"):
        rows += bench_size(*s, quick=args.quick, peers=peers)
    df = pd.DataFrame(rows)
    ours = df[df.impl == "learn_many"].set_index("size").ns_per_step
    df["learn_many_speedup"] = df.ns_per_step.values / ours.loc[df["size"]].values
    ours1 = df[df.impl == "learn_one"].set_index("size").ns_per_step
    df["learn_one_speedup"] = df.ns_per_step.values / ours1.loc[df["size"]].values
    versions = [f"numba {__import__('numba').__version__}"]
    if HAVE_TORCH:
        versions.append(f"torch {__import__('torch').__version__}")
    if HAVE_JAX:
        versions.append(f"jax {__import__('jax').__version__}")
    df["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, " + ", ".join(versions)
    df["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # CPU time this process got per second of wall time: about 1 for one busy
    # thread on an idle core, less when other sessions share the cores
    df["cpu_per_wall"] = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 2)
    out = pathlib.Path(args.out)
    df.round(3).to_csv(out, index=False)
    plotted = plot(df, out.with_suffix(".png")) is not False
    table = df.pivot(index="impl", columns="size", values="ns_per_weight_step")
    print("ns per weight-step:")
    print(table.reindex([i for i in IMPLS if i in table.index])[[s[0] for s in sizes]].round(2).to_string())
    print("\nper step, x slower than learn_many:")
    t2 = df.pivot(index="impl", columns="size", values="learn_many_speedup")
    print(t2.reindex([i for i in IMPLS if i in t2.index])[[s[0] for s in sizes]].round(1).to_string())
    print(f"\nwritten to {out}" + (f" and {out.with_suffix('.png')}" if plotted else ""))


from peers import TorchLSTMCellOnline, TorchTruncatedLSTM, jax_truncated  # noqa: E402

if __name__ == "__main__":
    main()
