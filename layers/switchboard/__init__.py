"""Switchboard: a self-hosted Messages API (shared package shipped as a Lambda layer)."""
