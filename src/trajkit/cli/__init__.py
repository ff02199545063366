"""Front door: the ``trajkit`` command line."""
