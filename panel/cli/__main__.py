"""`python -m panel.cli ...` = `panel ...`."""

from panel.cli.app import main

main()
