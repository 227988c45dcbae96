"""Benchmarks of the portal at a bootcamp's real size (`make bench`; see benchmarks/run.py). CI does not run them."""
