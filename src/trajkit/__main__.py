"""``python -m trajkit`` runs the command line."""

from .cli.main import main

main()
