"""The same online step written with the tools a user would pick instead.

* :class:`TorchTruncatedLSTM`: the paper's truncated forward-mode step (the
  same maths as ``numpy_step.NumpyLSTM`` and :class:`online_lstm.OnlineLSTM`)
  in PyTorch tensor ops, float64, no autograd, one Python call per step.
* :class:`TorchLSTMCellOnline`: what a PyTorch user writes for online
  learning: ``nn.LSTMCell`` + ``nn.Linear`` + SGD, one backward pass per step,
  the state detached between steps (truncated BPTT with k = 1).  A different
  cell (it has a forget gate) with a different gradient; float32, PyTorch's
  default.  It is here for what it costs, not for what it computes.
* :func:`jax_truncated`: the truncated step as a pure JAX function (float64),
  to be ``jax.jit``-ed and called per step, or run over a chunk with
  ``jax.lax.scan``.

All three truncated versions are checked against ``OnlineLSTM`` by the
benchmark before they are timed.  They cover what the benchmark runs: F
connectivity, output gates, biases on all non-input units.  Each peer is
imported lazily; the benchmark skips a peer that is not installed.
"""

from __future__ import annotations

import numpy as np


def _dense_weights(learner):
    """Hidden weights [in gates; out gates; cells] x [z, 1] and output weights
    [W_k | b_k], dense, in the paper's orientation."""
    lay = learner.layout
    assert lay.connectivity == "F" and lay.output_gates and lay.bias == "all"
    w = learner.get_weights()
    Wh = np.vstack([np.column_stack([w["W_in"], w["b_in"]]),
                    np.column_stack([w["W_out"], w["b_out"]]),
                    np.column_stack([w["W_c"], w["b_c"]])])
    Wk = np.column_stack([w["W_k"], w["b_k"]])
    return Wh, Wk


class TorchTruncatedLSTM:
    """The 1997 truncated step in torch tensor ops (float64, no autograd)."""

    def __init__(self, learner):
        import torch

        self.torch = torch
        lay = learner.layout
        Wh, Wk = _dense_weights(learner)
        self.C, self.S, self.CS, self.n_in = lay.n_blocks, lay.block_size, lay.n_cells, lay.n_in
        self.lr = learner.lr
        self.Wh = torch.tensor(Wh)
        self.Wk = torch.tensor(Wk)
        self.z = torch.zeros(Wh.shape[1], dtype=torch.float64)
        self.z[-1] = 1.0
        self.o = torch.zeros(self.CS + 1, dtype=torch.float64)
        self.o[-1] = 1.0
        self.reset()

    def reset(self):
        t = self.torch
        self.s = t.zeros(self.CS, dtype=t.float64)
        self.z[self.n_in:-1] = 0.0
        self.T_in = t.zeros((self.CS, self.Wh.shape[1]), dtype=t.float64)
        self.T_c = t.zeros((self.CS, self.Wh.shape[1]), dtype=t.float64)

    def learn_one(self, x, y):
        t = self.torch
        C, S, CS, n_in = self.C, self.S, self.CS, self.n_in
        z = self.z
        z[:n_in] = x
        net = self.Wh @ z
        y_in = t.sigmoid(net[:C])
        y_out = t.sigmoid(net[C:2 * C])
        gc = 4.0 * t.sigmoid(net[2 * C:]) - 2.0
        y_in_c = y_in.repeat_interleave(S)
        y_out_c = y_out.repeat_interleave(S)
        self.s += y_in_c * gc
        hs = 2.0 * t.sigmoid(self.s) - 1.0
        y_c = y_out_c * hs
        self.o[:CS] = y_c
        y_k = t.sigmoid(self.Wk @ self.o)
        self.T_in.add_(t.outer(gc * (y_in * (1 - y_in)).repeat_interleave(S), z))
        self.T_c.add_(t.outer((4.0 - gc * gc) * 0.25 * y_in_c, z))
        e_k = y_k * (1 - y_k) * (y - y_k)
        back = self.Wk[:, :CS].T @ e_k
        e_s = y_out_c * (1.0 - hs * hs) * 0.5 * back
        e_out = y_out * (1 - y_out) * (hs * back).reshape(C, S).sum(1)
        lr = self.lr
        self.Wk.add_(t.outer(e_k, self.o), alpha=lr)
        self.Wh[:C].add_((e_s.reshape(C, S, 1) * self.T_in.reshape(C, S, -1)).sum(1), alpha=lr)
        self.Wh[C:2 * C].add_(t.outer(e_out, z), alpha=lr)
        self.Wh[2 * C:].add_(e_s[:, None] * self.T_c, alpha=lr)
        z[n_in:n_in + CS] = y_c
        z[n_in + CS:n_in + CS + C] = y_in
        z[n_in + CS + C:-1] = y_out
        return y_k


class TorchLSTMCellOnline:
    """Typical online PyTorch: LSTMCell + Linear + SGD, state detached each step."""

    def __init__(self, n_in, n_hidden, n_out, lr=0.1, seed=0):
        import torch

        self.torch = torch
        torch.manual_seed(seed)
        self.cell = torch.nn.LSTMCell(n_in, n_hidden)
        self.head = torch.nn.Linear(n_hidden, n_out)
        params = list(self.cell.parameters()) + list(self.head.parameters())
        self.n_params = sum(p.numel() for p in params)
        self.opt = torch.optim.SGD(params, lr=lr)
        self.reset()

    def reset(self):
        H = self.cell.hidden_size
        self.h = self.torch.zeros(1, H)
        self.c = self.torch.zeros(1, H)

    def learn_one(self, x, y):
        h, c = self.cell(x, (self.h.detach(), self.c.detach()))
        y_k = self.torch.sigmoid(self.head(h))
        loss = ((y - y_k) ** 2).sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.h, self.c = h, c
        return y_k


def jax_truncated(learner):
    """The truncated step as pure JAX functions.

    Returns
    -------
    carry : tuple of jax arrays
        (Wh, Wk, s, rec, T_in, T_c): weights, cell states, the recurrent part
        of z (y_c, y_in, y_out of the previous step) and the traces.
    step : function (carry, (x, y, reset)) -> (carry, y_k)
        One online step; ``reset`` (0.0 or 1.0) zeroes the state first.
    """
    import jax.numpy as jnp

    lay = learner.layout
    Wh0, Wk0 = _dense_weights(learner)
    C, S, CS = lay.n_blocks, lay.block_size, lay.n_cells
    lr = learner.lr
    I = Wh0.shape[1]
    one = jnp.ones(1)

    def sig(a):
        return 1.0 / (1.0 + jnp.exp(-a))

    def step(carry, inp):
        Wh, Wk, s, rec, T_in, T_c = carry
        x, y, r = inp
        keep = 1.0 - r
        s, rec, T_in, T_c = s * keep, rec * keep, T_in * keep, T_c * keep
        z = jnp.concatenate([x, rec, one])
        net = Wh @ z
        y_in = sig(net[:C])
        y_out = sig(net[C:2 * C])
        gc = 4.0 * sig(net[2 * C:]) - 2.0
        y_in_c = jnp.repeat(y_in, S)
        y_out_c = jnp.repeat(y_out, S)
        s = s + y_in_c * gc
        hs = 2.0 * sig(s) - 1.0
        y_c = y_out_c * hs
        o = jnp.concatenate([y_c, one])
        y_k = sig(Wk @ o)
        T_in = T_in + jnp.outer(gc * jnp.repeat(y_in * (1 - y_in), S), z)
        T_c = T_c + jnp.outer((4.0 - gc * gc) * 0.25 * y_in_c, z)
        e_k = y_k * (1 - y_k) * (y - y_k)
        back = Wk[:, :CS].T @ e_k
        e_s = y_out_c * (1.0 - hs * hs) * 0.5 * back
        e_out = y_out * (1 - y_out) * (hs * back).reshape(C, S).sum(1)
        Wk = Wk + lr * jnp.outer(e_k, o)
        dWh = jnp.concatenate([(e_s.reshape(C, S, 1) * T_in.reshape(C, S, I)).sum(1),
                               jnp.outer(e_out, z), e_s[:, None] * T_c])
        Wh = Wh + lr * dWh
        rec = jnp.concatenate([y_c, y_in, y_out])
        return (Wh, Wk, s, rec, T_in, T_c), y_k

    carry = (jnp.asarray(Wh0), jnp.asarray(Wk0), jnp.zeros(CS), jnp.zeros(CS + 2 * C),
             jnp.zeros((CS, I)), jnp.zeros((CS, I)))
    return carry, step


if __name__ == "__main__":
    raise SystemExit(__doc__.splitlines()[0] + "\n"
                     "A module of bench_peers.py, not a script: run that "
                     "(see BENCHMARKS.md).")
