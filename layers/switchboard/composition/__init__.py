"""One module per function: its settings (checked once), its adapters and services (built once per
process), and the entry its ``functions/<name>/app.py`` handler calls. Only these modules build
concrete adapters; everything below them is handed its ports."""
