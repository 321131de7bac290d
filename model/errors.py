"""The two exceptions users meet: bad priors and bad evidence.

Both subclass :class:`ValueError`, so ``except ValueError`` catches them.
"""

__all__ = ["EvidenceError", "PriorsError"]


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
