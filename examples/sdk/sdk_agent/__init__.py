"""A support-ticket classifier on the official `openai` SDK, for the readiness harness.

Its retry behaviour is entirely the SDK's own (`max_retries`, exponential backoff with
jitter, Retry-After); `SDK_MAX_RETRIES` chooses how many retries it may make.
"""

__version__ = "0.1.0"
