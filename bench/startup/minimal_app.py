"""The baseline for bench/startup.py: a minimal typer app with two commands, with the same
settings as panel's own app. Its `--help` is what any typer CLI costs on this machine."""

import typer

app = typer.Typer(add_completion=False, rich_markup_mode="markdown", no_args_is_help=True)


@app.command()
def first(name: str) -> None:
    """The first command."""
    typer.echo(name)


@app.command()
def second(count: int = 1) -> None:
    """The second command."""
    typer.echo(count)


if __name__ == "__main__":
    app()
