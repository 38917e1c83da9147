"""`evidence serve`: the web form and the mobile API on this machine's store.

Flask is imported only when the command runs, so `evidence --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.context import default_store_path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_server(
    host: str, port: int, store_path: Path, database_url: str | None, kdf_memory_mib: int
) -> Any:
    """The app in a threaded WSGI server bound to ``host:port`` (0 picks a free port)."""
    from werkzeug.serving import make_server

    from server import accounts, create_app

    app = create_app(
        {
            "EVIDENCE_STORE": str(store_path),
            "EVIDENCE_DATABASE_URL": database_url or None,
            "EVIDENCE_KDF_MEMORY_KIB": kdf_memory_mib * 1024,
            # Plain HTTP on this machine: a Secure cookie would not be sent back.
            "EVIDENCE_SECURE_COOKIES": host not in LOOPBACK,
        }
    )
    with app.app_context():
        accounts()  # open (and migrate) the store now: fail before printing an address
    return make_server(host, port, app, threaded=True)


def url_of(server: Any, host: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{server.server_port}/"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--store",
    "store_path",
    envvar="EVIDENCE_STORE",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the server's store (default: your data folder, under server/).",
)
@click.option(
    "--database-url",
    envvar="EVIDENCE_DATABASE_URL",
    help="Keep accounts and logs in this database, e.g. postgresql+psycopg://user@host/db.",
)
@click.option(
    "--kdf-memory",
    default=64,
    show_default=True,
    type=click.IntRange(8, 4096),
    help="MiB of memory each password check costs (Argon2id).",
)
def serve(
    host: str, port: int, store_path: Path | None, database_url: str | None, kdf_memory: int
) -> None:
    """Start the web form and the mobile API, and print the address to open.

    Each account owns one encrypted log; sign up in the browser. This runs one
    process for one machine (SQLite and a blob folder by default); for many
    users, run gunicorn on PostgreSQL as docs/deploy.md describes.
    """
    folder = store_path or default_store_path() / "server"
    server = build_server(host, port, folder, database_url, kdf_memory)
    if host not in LOOPBACK:
        click.echo(
            "warning: this is plain HTTP; put it behind HTTPS before others use it "
            "(see docs/deploy.md)",
            err=True,
        )
    click.echo(f"evidence is serving at {url_of(server, host)}  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
