"""Load campaigns (item 7): Locust replays scenario records through the agent's invoke endpoint.

Locust runs in its own processes, never in the harness's: it monkey-patches the
standard library with gevent when imported. `locustfile.py` is what those
processes load; nothing here imports it.
"""

from readiness.load._campaign import run_campaign
from readiness.load._spec import CampaignResult, CampaignSpec, HistoryPoint

__all__ = ["CampaignResult", "CampaignSpec", "HistoryPoint", "run_campaign"]
