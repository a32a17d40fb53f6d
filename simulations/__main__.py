"""``python -m simulations`` is the same as the ``outcome-router`` command."""

import sys

from simulations.cli import main

sys.exit(main())
