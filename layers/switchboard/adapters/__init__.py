"""Everything that talks to AWS or the network: DynamoDB stores, SQS queues, provider and webhook HTTP.

Services above this package see only ports (protocols); the composition of each function builds
these adapters and hands them in.
"""
