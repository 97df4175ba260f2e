"""Calling customers' webhooks: the SSRF guard, Vonage-style signing and the HTTP delivery."""
