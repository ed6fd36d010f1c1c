"""The web page's Network health: the figures of GET /network/health drawn with CSS bars and an
inline SVG line (no chart library, nothing loaded from another host).

The page calls the service the API route calls, for the signed-in workspace; what it adds is
only geometry: where each point of the weekly history goes on the chart.
"""

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import IndexerDep, SessionDep, SettingsDep
from app.network import service as network
from app.network.schemas import CadenceCounts, CadencePoint
from app.pages.router import render
from app.pages.session import PageSessionDep, PageWorkspaceDep

router = APIRouter(include_in_schema=False)

# The history chart's drawing box (the SVG's viewBox), and its margins for the labels.
CHART_WIDTH = 640
CHART_HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 30


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    point: CadencePoint


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its share of the bar (0-100) and what it counts."""

    kind: str
    label: str
    count: int
    percent: float


def history_chart(history: list[CadencePoint]) -> list[ChartPoint]:
    """Each week with a share in cadence, placed on the chart (0 % at the bottom, 100 % at the
    top, the weeks evenly from left to right)."""
    inner_width = CHART_WIDTH - LEFT - RIGHT
    inner_height = CHART_HEIGHT - TOP - BOTTOM
    step = inner_width / max(len(history) - 1, 1)
    return [
        ChartPoint(
            x=round(LEFT + i * step, 1),
            y=round(TOP + (1 - point.share_in_cadence) * inner_height, 1),
            point=point,
        )
        for i, point in enumerate(history)
        if point.share_in_cadence is not None
    ]


def cadence_bar(counts: CadenceCounts) -> list[Segment]:
    """A tier's (or the whole network's) contacts as one bar: in cadence, due, overdue, never
    contacted."""
    parts = (
        ("in-cadence", "in cadence", counts.in_cadence),
        ("due", "due", counts.due - counts.overdue),
        ("overdue", "overdue", counts.overdue),
        ("never", "never contacted", counts.never_contacted),
    )
    total = max(counts.contacts, 1)
    return [Segment(kind, label, n, round(100 * n / total, 1)) for kind, label, n in parts if n]


@router.get("/network", response_class=HTMLResponse)
def network_page(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    indexer: IndexerDep,
) -> Response:
    """As GET /network/health."""
    health = network.workspace_health(
        session=session,
        workspace=workspace,
        embedder=indexer.embedder,
        settings=settings,
        today=date.today(),
    )
    return render(
        request,
        page,
        "network.html",
        {
            "workspace": workspace,
            "nav": "network",
            "health": health,
            "overall_bar": cadence_bar(health.cadence.overall),
            "tier_bars": [(t, cadence_bar(t)) for t in health.cadence.tiers],
            "chart": history_chart(health.cadence.history),
            "chart_box": {
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "left": LEFT,
                "right": CHART_WIDTH - RIGHT,
                "top": TOP,
                "bottom": CHART_HEIGHT - BOTTOM,
            },
        },
    )
