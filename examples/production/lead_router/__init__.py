"""Lead router: routes inbound sales leads to reps with an LLM, through the CRM.

The production-grade reference agent for agent-readiness. Run it with
``python -m lead_router --port 8080`` from the directory holding readiness.toml.
"""

__version__ = "1.4.0"

__all__ = ["__version__"]
