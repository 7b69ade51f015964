"""Layer recipes of the libraries the full profile links (one module per library, see engine/buildlib.py)."""
