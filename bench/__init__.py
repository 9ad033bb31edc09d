"""Benchmarks of ump365.upgrade against the UMP lab (``make bench`` = ``python -m bench``)."""
