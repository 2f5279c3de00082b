"""The model's mechanisms, one module each (model brief, section 2)."""
