"""``python -m moldojo``, the same as the ``moldojo`` command."""

import sys

from moldojo.cli import main

sys.exit(main())
