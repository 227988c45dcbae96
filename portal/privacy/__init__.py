"""Privacy: people's copies of their own data (subject access)."""
