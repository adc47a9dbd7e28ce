"""`python -m benchmint.cli`: the same command line as the `benchmint` script."""

from benchmint.cli import main

main()
