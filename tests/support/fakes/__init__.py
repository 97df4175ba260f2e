"""In-memory fakes, one per port the product's services take, shared by the unit tests and the bench.

Each keeps the semantics its service relies on (conditional claims, de-duplication, ...) and records
what it was asked, so a test asserts on observed effects. A fake that stands for an AWS call can
spend it in ``time.sleep(call_seconds)`` (``0`` by default): the bench uses that to model network
waits, which other threads run through, where moto's calls are CPU work under the interpreter lock.
"""
