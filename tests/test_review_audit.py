"""Review of the day's library changes: regression tests of the defects fixed.

Each test names the defect it guards against; they are cheap (no training
beyond a few steps) and deterministic.
"""

from __future__ import annotations


import online_lstm


def test_the_package_namespace_holds_no_typing_flag():
    """The lazy-attribute rewrite of ``online_lstm/__init__.py`` imported
    ``typing.TYPE_CHECKING`` into the package: ``online_lstm.TYPE_CHECKING``
    was a public attribute, listed by ``dir(online_lstm)`` among the API."""
    assert not hasattr(online_lstm, "TYPE_CHECKING")
    assert "TYPE_CHECKING" not in dir(online_lstm)
    public = {n for n in dir(online_lstm) if not n.startswith("_")}
    # the API (__all__) and the submodules imported so far, nothing else
    assert public - set(online_lstm.__all__) <= {
        n for n in public if type(getattr(online_lstm, n)).__name__ == "module"}
