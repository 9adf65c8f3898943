"""The WSGI entry point for other servers, e.g. `gunicorn -k gthread -w 2 --threads 8 'ivr.wsgi:app'`
(`hotline web`, which deploy/ uses, runs gunicorn so itself).

Each worker builds its own app (and connection pool) from config.yaml and the environment; none starts a
scheduler. A broken config, or no SECRET_KEY, stops the worker with the same one-line message as the CLI
and exit status 2.
"""

from __future__ import annotations

import sys

from ivr.app import create_app, require_secret_key
from ivr.config import ConfigError, load_config
from ivr.server import freeze_loaded_objects
from ivr.signature import warn_about_development_token
from ivr.webhooks import replay_at_startup

try:
    config = load_config()
    require_secret_key(config)
    app = create_app(config)
    warn_about_development_token(app)
    replay_at_startup(app)  # webhooks this host spooled before it went down
    freeze_loaded_objects()
except ConfigError as error:
    print(f"hotline: configuration error: {error}", file=sys.stderr)
    sys.exit(2)
