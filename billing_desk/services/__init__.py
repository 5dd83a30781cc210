"""Use cases. Each public method opens one unit of work, checks permission, writes its audit
row and commits once; it takes plain values and returns frozen dataclasses (see dto.py)."""
