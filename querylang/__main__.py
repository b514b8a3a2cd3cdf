"""``python -m querylang``: the same command line as the ``querylang`` script."""

from querylang.cli import main

raise SystemExit(main())
