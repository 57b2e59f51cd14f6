"""``python -m services.cli`` is the ``kat`` console script."""

from services.cli.main import main

raise SystemExit(main())
