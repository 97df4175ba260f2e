"""Build-time tools for the repository (not shipped in the Lambda layer)."""
