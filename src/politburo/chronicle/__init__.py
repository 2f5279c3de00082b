"""The narrative: one history told as a dated chronicle, its prose, and the ``--where`` filter
language that finds a history by outcome."""
