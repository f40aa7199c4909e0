"""`python -m kb.cli ...`, as the `kb` script."""

import sys

from kb.cli.commands import main

sys.exit(main())
