"""The `qbsync` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qbsync.config import Settings, env_var_markdown
from qbsync.document_cli import estimate_app, invoice_app
from qbsync.export_cli import export_command
from qbsync.history_cli import history_command
from qbsync.import_cli import import_command
from qbsync.replay_cli import replay_command
from qbsync.restore_cli import restore_command

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
schemas_app = typer.Typer(no_args_is_help=True, help="Event schemas: JSON Schema and AsyncAPI.")
app.add_typer(schemas_app, name="schemas")
sandbox_app = typer.Typer(no_args_is_help=True, help="Simulators of the remote services.")
app.add_typer(sandbox_app, name="sandbox")


@app.command()
def up(
    seed: Annotated[
        int, typer.Option(help="Customers per QBO sandbox company and people in the CRM sandbox.")
    ] = 200,
) -> None:
    """The main job: broker, topics, both sandboxes, a demo tenant connected to QBO, the HTTP API
    with its bridges and the engine worker, until stopped."""
    from qbsync.up import run_up

    raise typer.Exit(run_up(Settings(), seed=seed))


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


@sandbox_app.command("qbo")
def sandbox_qbo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    seed: Annotated[int | None, typer.Option(help="Customers to seed in each company.")] = None,
    client_id: Annotated[str | None, typer.Option(help="Developer app client id.")] = None,
    client_secret: Annotated[str | None, typer.Option(help="Developer app client secret.")] = None,
    verifier_token: Annotated[str | None, typer.Option(help="Webhook verifier token.")] = None,
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Allowed OAuth redirect URI (repeatable).")
    ] = None,
    webhook_url: Annotated[
        list[str] | None, typer.Option(help="Webhook endpoint to notify (repeatable).")
    ] = None,
    webhook_format: Annotated[str | None, typer.Option(help="legacy or cloudevents.")] = None,
) -> None:
    """Run the QuickBooks Online sandbox (QBSYNC_QBO_SANDBOX_* variables set the defaults)."""
    from sandbox.qbo.config import QboSandboxConfig
    from sandbox.qbo.server import serve

    overrides: dict[str, Any] = {
        "seed_customers": seed,
        "client_id": client_id,
        "client_secret": client_secret,
        "webhook_verifier_token": verifier_token,
        "redirect_uris": redirect_uri,
        "webhook_urls": webhook_url,
        "webhook_format": webhook_format,
    }
    # The constructor (not model_validate) so QBSYNC_QBO_SANDBOX_* variables still apply.
    config = QboSandboxConfig(**{k: v for k, v in overrides.items() if v is not None})
    serve(host, port, config)


@sandbox_app.command("crm")
def sandbox_crm(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8610,
    seed: Annotated[int | None, typer.Option(help="People to seed (emails overlap QBO's).")] = None,
    api_key: Annotated[str | None, typer.Option(help="The admin user's api_key.")] = None,
    app_key: Annotated[str | None, typer.Option(help="The registered app's app_key.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="The account's time zone.")] = None,
) -> None:
    """Run the Pipeline CRM sandbox (QBSYNC_CRM_SANDBOX_* variables set the defaults)."""
    from sandbox.crm.config import CrmSandboxConfig
    from sandbox.crm.server import serve

    overrides: dict[str, Any] = {
        "seed_people": seed,
        "admin_api_key": api_key,
        "app_key": app_key,
        "time_zone": time_zone,
    }
    # The constructor (not model_validate) so QBSYNC_CRM_SANDBOX_* variables still apply.
    config = CrmSandboxConfig(**{k: v for k, v in overrides.items() if v is not None})
    serve(host, port, config)


app.command("import")(import_command)
app.command("replay")(replay_command)
app.command("export")(export_command)
app.add_typer(invoice_app, name="invoice")
app.add_typer(estimate_app, name="estimate")
app.command("history")(history_command)
app.command("restore")(restore_command)


@app.command()
def demo() -> None:
    """The vendor's example end to end on a fresh local stack, printed as a report (exit 1 if a
    check fails)."""
    from qbsync.demo import run_demo

    raise typer.Exit(run_demo(Settings()))


@app.command()
def api() -> None:
    """The HTTP API: CRM ingest, CRM and QBO webhooks, the CRM poller, QBO CDC sweeps (each
    part runs when its settings are present; see README)."""
    import uvicorn

    from adapters.http_api import build_api
    from qbsync.logs import configure_logging

    settings = Settings()
    if not settings.kafka_bootstrap:
        typer.echo("QBSYNC_KAFKA_BOOTSTRAP is not set (or use `qbsync up`).", err=True)
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
    app_ = build_api(settings, settings.kafka_bootstrap)
    uvicorn.run(app_, host=settings.http_host, port=settings.http_port, log_config=None)
