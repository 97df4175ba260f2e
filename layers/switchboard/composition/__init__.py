"""One module per function: its settings (read and checked once), its services, its entry point.

Nothing else in the layer builds adapters from settings: a function's wiring is read in one place.
"""
