"""``python -m centerloss demo``: see ``centerloss.apps.cli``."""

import sys

from centerloss.apps.cli import main

sys.exit(main())
