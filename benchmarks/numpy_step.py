"""A straightforward NumPy implementation of the same online step (the first baseline).

Dense matrices in the paper's orientation, one ``@`` per layer, preallocated
state; what a careful NumPy programmer would write first.  It computes the
same numbers as :class:`online_lstm.OnlineLSTM` (checked by the benchmark
before timing) for F-connectivity nets with output gates and biases on all
non-input units ("all"), which is what the benchmark uses.
"""

from __future__ import annotations

import numpy as np


class NumpyLSTM:
    def __init__(self, learner):
        lay = learner.layout
        assert lay.connectivity == "F" and lay.output_gates and lay.bias == "all"
        w = learner.get_weights()
        self.C, self.S, self.K = lay.n_blocks, lay.block_size, lay.n_out
        self.CS = lay.n_cells
        self.lr = learner.lr
        # hidden units [in gates; out gates; cells], sources [z, 1]
        self.Wh = np.vstack([
            np.column_stack([w["W_in"], w["b_in"]]),
            np.column_stack([w["W_out"], w["b_out"]]),
            np.column_stack([w["W_c"], w["b_c"]]),
        ])
        self.Wk = np.column_stack([w["W_k"], w["b_k"]])
        I = self.Wh.shape[1]
        self.z = np.zeros(I)
        self.z[-1] = 1.0
        self.o = np.zeros(self.CS + 1)
        self.o[-1] = 1.0
        self.n_in = lay.n_in
        self.reset()

    def reset(self):
        self.s = np.zeros(self.CS)
        self.z[self.n_in:-1] = 0.0
        self.T_in = np.zeros((self.CS, self.Wh.shape[1]))
        self.T_c = np.zeros((self.CS, self.Wh.shape[1]))

    def learn_one(self, x, y):
        C, S, CS = self.C, self.S, self.CS
        z = self.z
        z[: self.n_in] = x
        net = self.Wh @ z
        y_in = 1.0 / (1.0 + np.exp(-net[:C]))
        y_out = 1.0 / (1.0 + np.exp(-net[C:2 * C]))
        gc = 4.0 / (1.0 + np.exp(-net[2 * C:])) - 2.0
        y_in_c = np.repeat(y_in, S)
        y_out_c = np.repeat(y_out, S)
        self.s += y_in_c * gc
        hs = 2.0 / (1.0 + np.exp(-self.s)) - 1.0
        y_c = y_out_c * hs
        self.o[:CS] = y_c
        y_k = 1.0 / (1.0 + np.exp(-(self.Wk @ self.o)))
        self.T_in += np.outer(gc * np.repeat(y_in * (1 - y_in), S), z)
        self.T_c += np.outer((4.0 - gc * gc) * 0.25 * y_in_c, z)
        e_k = y_k * (1 - y_k) * (y - y_k)
        back = self.Wk[:, :CS].T @ e_k
        e_s = y_out_c * (1.0 - hs * hs) * 0.5 * back
        e_out = y_out * (1 - y_out) * (hs * back).reshape(C, S).sum(1)
        lr = self.lr
        self.Wk += lr * np.outer(e_k, self.o)
        self.Wh[:C] += lr * (e_s.reshape(C, S, 1) * self.T_in.reshape(C, S, -1)).sum(1)
        self.Wh[C:2 * C] += lr * np.outer(e_out, z)
        self.Wh[2 * C:] += lr * e_s[:, None] * self.T_c
        z[self.n_in:self.n_in + CS] = y_c
        z[self.n_in + CS:self.n_in + CS + C] = y_in
        z[self.n_in + CS + C:-1] = y_out
        return y_k


if __name__ == "__main__":
    raise SystemExit(__doc__.splitlines()[0] + "\n"
                     "A module of bench_step.py and bench_peers.py, not a script: "
                     "run one of them (see BENCHMARKS.md).")
