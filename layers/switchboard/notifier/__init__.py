"""Customer webhooks: the outbox that publishes them exactly once, the NotifyQueue publisher, and the
NotifierFunction's delivery (targets, signing, POST, retries)."""
