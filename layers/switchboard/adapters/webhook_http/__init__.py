"""Customer webhook HTTP: the SSRF guard, connections pinned to the addresses it checked, and the POST."""
