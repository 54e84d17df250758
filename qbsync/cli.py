"""The `qbsync` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qbsync.config import Settings, env_var_markdown

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
schemas_app = typer.Typer(no_args_is_help=True, help="Event schemas: JSON Schema and AsyncAPI.")
app.add_typer(schemas_app, name="schemas")


@app.command()
def up() -> None:
    """The main job: broker, topics and engine worker on embedded defaults, until stopped."""
    from qbsync.up import run_up

    raise typer.Exit(run_up(Settings()))


@app.command()
def worker(
    web_port: Annotated[int | None, typer.Option(help="Faust web port (one per worker).")] = None,
) -> None:
    """Run one engine worker (Faust) against QBSYNC_KAFKA_BOOTSTRAP."""
    from streams.worker import run_worker

    settings = Settings()
    if web_port is not None:
        settings = settings.model_copy(update={"worker_web_port": web_port})
    if not settings.kafka_bootstrap:
        typer.echo("QBSYNC_KAFKA_BOOTSTRAP is not set (or use `qbsync up`).", err=True)
        raise typer.Exit(2)
    run_worker(settings, settings.kafka_bootstrap)


@app.command()
def broker(
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port; default a free one.")] = None,
) -> None:
    """Run the embedded Kafka-protocol broker (tansu) in the foreground."""
    from streams.broker import serve_forever

    serve_forever(host, port if port is not None else Settings().embedded_broker_port)


@schemas_app.command("export")
def schemas_export(directory: Path) -> None:
    """Write one JSON Schema per event type and an AsyncAPI document to DIRECTORY."""
    from schemas.export import export_all

    written = export_all(directory)
    typer.echo(f"wrote {len(written)} files to {directory}")


@app.command()
def config(
    markdown: Annotated[bool, typer.Option(help="Print the README table.")] = False,
) -> None:
    """Show every QBSYNC_* variable: its current value, or the README table of defaults."""
    if markdown:
        typer.echo(env_var_markdown())
        return
    for name, value in Settings().model_dump().items():
        typer.echo(f"QBSYNC_{name.upper()}={'' if value is None else value}")
