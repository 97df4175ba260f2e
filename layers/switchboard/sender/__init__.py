"""The queue-driven sender: claims queued messages and sends each to its provider at most once."""
from switchboard.sender.batch import process_batch

__all__ = ["process_batch"]
