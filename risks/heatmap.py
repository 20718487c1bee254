"""The heat map as data for a server-rendered SVG: one grid per score kind (inherent,
residual), likelihood up the side (highest on top), impact along the bottom, each cell
coloured by its level on the organization's matrix and holding its count of risks."""

from __future__ import annotations

from dataclasses import dataclass

from risks import matrix as matrices
from risks.models import RiskMatrix
from risks.selectors import heat_counts

CELL = 44  # px in the SVG's own units; the SVG scales to its container (viewBox)
AXIS = 28


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    likelihood: int
    impact: int
    count: int
    level: str
    colour: str

    @property
    def cx(self) -> int:
        return self.x + CELL // 2

    @property
    def cy(self) -> int:
        return self.y + CELL // 2 + 5


@dataclass(frozen=True)
class Grid:
    key: str
    title: str
    cells: list[Cell]
    total: int
    size: int

    @property
    def width(self) -> int:
        return AXIS + self.size * CELL + 4

    @property
    def height(self) -> int:
        return self.size * CELL + AXIS + 4

    @property
    def axis_x(self) -> list[tuple[int, int]]:
        """Impact values and their label x positions."""
        return [(i, AXIS + (i - 1) * CELL + CELL // 2) for i in range(1, self.size + 1)]

    @property
    def axis_y(self) -> list[tuple[int, int]]:
        return [(v, (self.size - v) * CELL + CELL // 2 + 5) for v in range(1, self.size + 1)]

    @property
    def bottom(self) -> int:
        return self.size * CELL + 18


def grid(key: str, title: str, matrix: RiskMatrix, counts: dict[tuple[int, int], int]) -> Grid:
    cells = []
    for likelihood in range(matrix.size, 0, -1):
        for impact in range(1, matrix.size + 1):
            level = matrices.level_of(matrix, likelihood * impact)
            cells.append(
                Cell(
                    x=AXIS + (impact - 1) * CELL,
                    y=(matrix.size - likelihood) * CELL,
                    likelihood=likelihood,
                    impact=impact,
                    count=counts.get((likelihood, impact), 0),
                    level=level.label,
                    colour=matrices.LEVEL_COLOURS[level],
                )
            )
    return Grid(key=key, title=title, cells=cells, total=sum(counts.values()), size=matrix.size)


def grids_context(org: object, matrix: RiskMatrix) -> dict[str, object]:
    """What ``risks/_heatmap_grids.html`` draws: both grids and the legend (one query)."""
    inherent, residual = heat_counts(org)
    return {
        "grids": [
            grid("inherent", "Inherent risk", matrix, inherent),
            grid("residual", "Residual risk", matrix, residual),
        ],
        "levels": [(lv.label, matrices.LEVEL_COLOURS[lv]) for lv in matrices.LEVEL_ORDER],
    }
