"""The HTTP toolbox shared by the API and the provider webhooks: problem+json answers and request bodies."""
