"""The queue-driven sender: claims queued messages and sends each to its provider at most once."""
