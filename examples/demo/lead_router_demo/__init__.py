"""Lead router, demo grade: what a vendor shows in a sales call.

It routes a clean lead end to end, and that is all it does. See ../README.md for what
it lacks; the readiness harness should fail it on most of the nine items.
"""
