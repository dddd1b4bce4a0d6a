"""Exceptions raised by the learners."""

from __future__ import annotations


class InputError(ValueError):
    """An input, target or argument was refused; the learner is unchanged."""


class DivergenceError(FloatingPointError):
    """A step would make the learner's numbers non-finite or out of bounds.

    The step was not applied: the learner holds the last good state, the one
    from before the failing step.

    Attributes
    ----------
    step : int
        Index of the refused step, counted from construction (``n_steps_``
        before the call plus the row within a ``learn_many`` call).
    row : int or None
        Row of the ``learn_many``/``predict_many`` chunk that failed.
    reason : str
        Which check failed.
    state : dict or None
        With ``on_divergence="reset"``: the learner's state arrays at the
        refused step, before the policy reset it (``load_state_arrays``
        restores them).  None otherwise: the learner itself holds that state.
    out : ndarray or None
        ``learn_many``/``predict_many``: the outputs of the call, of the
        shape it returns, (T, n_out) (the ``out`` array given, if one was):
        the predictions of the rows applied before ``row``, NaN from ``row``
        on.  None for the other calls.
    """

    def __init__(self, message, step, row=None, reason=""):
        super().__init__(message)
        self.step = step
        self.row = row
        self.reason = reason
        self.state = None
        self.out = None

    def with_outputs(self, out) -> "DivergenceError":
        """This error with ``out``, the output rows of the ``learn_many`` or
        ``predict_many`` call it stopped, NaN from ``row`` on (not computed)."""
        out[self.row:] = float("nan")
        self.out = out
        return self

    def __reduce__(self):  # picklable, e.g. raised in a worker process
        # every attribute as BaseException's own __reduce__ keeps them: .state,
        # notes (add_note), attributes a caller set
        return type(self), (self.args[0], self.step, self.row, self.reason), dict(self.__dict__)

    @classmethod
    def reset_refused(cls, reason: str, step: int, row: int | None = None) -> "DivergenceError":
        """The error of a :meth:`reset` that would apply a diverging
        accumulated update (``update="sequence"``): nothing was changed.
        With ``row``, the reset requested before that row of ``learn_many``
        or ``predict_many``: the rows before it were applied."""
        head = "reset refused" if row is None else f"reset refused at row {row}"
        tail = ("Nothing was changed; the learner holds its state from before the reset."
                if row is None else
                f"Rows before {row} were applied; the reset and row {row} were not.")
        return cls(f"{head}: applying the weight changes accumulated over the sequence "
                   f"(update='sequence') failed: {reason}. {tail}", step=step, row=row, reason=reason)


class NoPendingStepError(RuntimeError):
    """``learn_last`` was called, but the last step was already learned from
    (or there was no step since the last reset), or ``learn_delayed`` gave a
    target to an output unit that already had one at that step.  Nothing was
    changed."""


class ResumeError(ValueError):
    """Records or trial checkpoints that ``reproduce(..., resume=True)``
    (``online-lstm reproduce --resume``) cannot continue: made with other
    settings, another seed or another code version."""


class ClusterError(RuntimeError):
    """``reproduce --scheduler``: the Dask scheduler cannot be reached, has no
    workers, or its workers run another version of online-lstm.  No trial
    was sent."""


class CheckpointError(ValueError):
    """A checkpoint file could not be used: truncated or corrupted, a format
    version this library does not read, or a configuration that does not match
    the learner it is restored into.  Nothing was changed."""
