"""Job specs and the runner: resolve inputs → bridge → backend → outputs → report."""
