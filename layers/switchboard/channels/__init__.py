"""Moved to ``switchboard.adapters.providers``; the modules here are shims removed when the restructuring completes."""
