"""The web application's routes, one APIRouter per concern; bot/app.py's `create_app` includes them.

- health.py: `/healthz`, `/readyz`, `/metrics`
- slack_events.py: `POST /slack/events` (size limit, signature, shape, then Bolt)
- oauth.py: `/slack/install` and `/slack/oauth_redirect` (OAuth mode)

Local mode's embedded workspace, demo metrics source and console are mounted by bot/local.py.
"""
