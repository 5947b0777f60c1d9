"""Scenario data: the inputs the harness replays through the agent."""

from readiness.scenarios.source import ScenarioError, records

__all__ = ["ScenarioError", "records"]
