"""Upstream side of the harness: the recording proxy, faults and simulators."""
