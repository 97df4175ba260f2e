"""The three queues (outbound, notify, workflow events) and the one batch runner their functions share."""
