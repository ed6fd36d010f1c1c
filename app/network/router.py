"""HTTP routes of the network's health."""

from datetime import date

from fastapi import APIRouter

from app.deps import IndexerDep, SessionDep, SettingsDep, WorkspaceDep
from app.network import service
from app.network.schemas import NetworkHealth

router = APIRouter(prefix="/network", tags=["network"])


@router.get("/health")
def get_network_health(
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    indexer: IndexerDep,
) -> NetworkHealth:
    """How the network is doing today (the server's local day): is it alive, spread wide
    enough, and are you a giver?

    - **cadence**: per tier and overall, contacts in cadence, due, overdue (median and worst days
      past due) and never contacted; `history` is the share in cadence at the end of each of the
      last 12 weeks, rebuilt from the ledger's dates, each contact's last touch and the day it
      was added (so it has history from the first day), with the due count of the daily lists
      stored that week.
    - **neglect**: the due contacts longest without a touch, weighted by tier (days without a
      touch divided by the tier's cadence), and how many contacts in cadence would fall out of
      it in the next 30 days at the pace of the last 90 days.
    - **giving**: gives and asks over the last 90 days and all time, the contacts you have asked
      more often than you have given to, and the share of contacts who have received a give.
    - **spread**: the contacts by field, company and seniority, each with the largest share and
      the Herfindahl-Hirschman index, and a `warning` when one field holds half the network or
      more. A contact's field is its own `field` where set (source `user`, confidence 1), else
      the nearest job family to its title, company and expertise by the embedding model (source
      `inferred`, the cosine as confidence), else unknown.
    - **suggestions**: whom outside the dominant field to reconnect with first (going cold
      within 30 days), and the tier-A contacts who have had no gift (a give other than a
      check-in) in a year.

    The first call after many contacts were added embeds their profiles (once: the vectors are
    cached); after that the figures take milliseconds.
    """
    return service.workspace_health(
        session=session,
        workspace=workspace,
        embedder=indexer.embedder,
        settings=settings,
        today=date.today(),
    )
