"""The little linear algebra the growth-rate filter needs: 3x3 matrices as lists of rows.

Small, pure Python and allocation-light, so the job does not need numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

Vector = list[float]
Matrix = list[list[float]]


def identity(n: int = 3) -> Matrix:
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def diagonal(values: Sequence[float]) -> Matrix:
    n = len(values)
    return [[float(values[i]) if i == j else 0.0 for j in range(n)] for i in range(n)]


def copy(a: Sequence[Sequence[float]]) -> Matrix:
    return [list(row) for row in a]


def transpose(a: Sequence[Sequence[float]]) -> Matrix:
    return [list(column) for column in zip(*a, strict=True)]


def matmul(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> Matrix:
    columns = list(zip(*b, strict=True))
    return [[sum(x * y for x, y in zip(row, column, strict=True)) for column in columns] for row in a]


def matvec(a: Sequence[Sequence[float]], v: Sequence[float]) -> Vector:
    return [sum(x * y for x, y in zip(row, v, strict=True)) for row in a]


def add(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> Matrix:
    return [[x + y for x, y in zip(ra, rb, strict=True)] for ra, rb in zip(a, b, strict=True)]


def outer(u: Sequence[float], v: Sequence[float]) -> Matrix:
    return [[x * y for y in v] for x in u]


def dot(u: Sequence[float], v: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(u, v, strict=True))


def symmetrize(a: Sequence[Sequence[float]]) -> Matrix:
    """(A + Aᵀ)/2: removes the asymmetry that rounding leaves in a covariance matrix."""
    n = len(a)
    return [[0.5 * (a[i][j] + a[j][i]) for j in range(n)] for i in range(n)]


def is_finite(a: Sequence[Sequence[float]]) -> bool:
    return all(x == x and abs(x) != float("inf") for row in a for x in row)
