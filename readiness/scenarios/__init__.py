"""Scenario data: the inputs the harness replays through the agent."""

from readiness.scenarios.source import ScenarioError, ScenarioRecords, records

__all__ = ["ScenarioError", "ScenarioRecords", "records"]
