"""Data retention: how long each kind of personal data is kept, and the runs that remove what is older."""
