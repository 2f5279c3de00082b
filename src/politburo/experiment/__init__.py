"""What the model says: ``run_scenario`'s odds, and ``Experiment`'s lever worlds with their
Shapley attribution and Sobol sensitivity."""
