"""``python -m centerloss demo``: see ``centerloss.cli``."""

import sys

from centerloss.cli import main

sys.exit(main())
