"""``python -m crispr_models`` is the ``crispr-models`` command."""

import sys

from crispr_models.cli import main

sys.exit(main())
