"""The `panel` command line. `app` holds the typer app and maps errors to exit codes in one place.

Kept light: `panel --help` imports only typer and these modules; each command imports the
stages it runs when it runs.
"""
