"""The WSGI entry point for gunicorn (or any WSGI server): ``gunicorn server.wsgi:app``.

Configured by EVIDENCE_* environment variables (docs/deploy.md). The store is opened
lazily in each worker, after the fork, so workers share no connection.
"""

import gc

from server import create_app

app = create_app()
# Modules, routes and templates live as long as the worker: keeping them out of the cyclic
# collector's passes makes each pass (run every few hundred allocations) cheaper.
gc.freeze()
