"""`python -m local_api --port 8081`"""

from .server import main

raise SystemExit(main())
