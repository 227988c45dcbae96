"""Live industry sessions: talks, panels and employer Q&As with a limited number of seats."""
