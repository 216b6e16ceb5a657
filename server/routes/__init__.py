"""The collector's routes, one module per resource; each stays thin and calls one function."""
