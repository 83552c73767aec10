"""``python -m moldojo.cli``."""

import sys

from moldojo.cli import main

sys.exit(main())
