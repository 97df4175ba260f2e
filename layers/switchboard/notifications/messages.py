"""Moved to ``switchboard.domain.notification``; this re-export is removed when the restructuring completes."""
from switchboard.domain.notification import (  # noqa: F401
    INBOUND_KIND, INBOUND_URL, Notification, STATUS_KIND, STATUS_URL, WORKFLOW_KIND, inbound_body,
    owner_target, status_body, status_target, workflow_link,
)
