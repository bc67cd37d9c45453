"""Networks (thesis Tables 5.1, 5.2, 5.5) and the objectives of every model in the registry."""
