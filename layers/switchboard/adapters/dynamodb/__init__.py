"""The DynamoDB stores and their toolkit.

``codec`` converts values, ``update_builder`` writes update expressions, ``conditional_table``
runs conditional writes and maps DynamoDB's errors; every store is built on those three. The
tables, keys, indexes and attributes are described in ``docs/data-model.md``.
"""
