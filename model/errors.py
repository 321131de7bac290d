"""The two exceptions users meet: bad priors and bad evidence.

Both subclass :class:`ValueError`, so ``except ValueError`` catches them.
:func:`close_names` is how every message suggests the name that was meant.
"""

import difflib

__all__ = ["EvidenceError", "PriorsError", "close_names"]


def close_names(word, names, n=3, cutoff=0.5):
    """The names closest to ``word``, best first, ignoring case: for "Did you mean ...?" hints.

    A name equal to ``word`` but for case comes first; then the closest by
    :func:`difflib.get_close_matches` on lower-cased text. ``names`` are
    returned as spelt in ``names``.

    Examples
    --------
    >>> close_names("PAIN_BURNING", ["pain_burning", "pain_below_knee", "fever"])
    ['pain_burning', 'pain_below_knee']
    >>> close_names("YES", ["no", "yes"])
    ['yes']
    >>> close_names("zzz", ["no", "yes"])
    []
    """
    names = [str(name) for name in names]
    word = str(word)
    by_lower = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)
    same = [name for name in by_lower.get(word.lower(), []) if name != word]
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=cutoff)
    found = same + [name for lower in close for name in by_lower[lower] if name != word and name not in same]
    return found[:n]


class PriorsError(ValueError):
    """One or more problems in a priors folder or table.

    ``problems`` lists every problem found, each naming the file, line,
    column and offending value, and saying how to fix it.

    Examples
    --------
    >>> err = PriorsError(["links.csv, line 3, column 'probability': got 'abc'."])
    >>> print(err)
    1 problem in the priors:
      - links.csv, line 3, column 'probability': got 'abc'.
    """

    def __init__(self, problems, *, where=""):
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        place = f" in {where}" if where else " in the priors"
        lines = [f"{count} {noun}{place}:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class EvidenceError(ValueError):
    """Evidence that names an unknown node or state, or cannot be true.

    Examples
    --------
    >>> raise EvidenceError("unknown node 'foo'")
    Traceback (most recent call last):
    ...
    model.errors.EvidenceError: unknown node 'foo'
    """
