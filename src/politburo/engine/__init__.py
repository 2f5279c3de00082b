"""The model: the state of a batch of histories, its keyed randomness, the month, and the
mechanisms (one module each) that the month calls."""
