"""`python -m readiness` is the `readiness` command."""

import sys

from readiness.cli import main

sys.exit(main())
