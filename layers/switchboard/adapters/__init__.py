"""Everything that talks to AWS or the network: DynamoDB, SQS, the providers' HTTP APIs, customer webhooks."""
