"""`evidence`: keep an encrypted, tamper-evident log of debt-collection harassment.

The group maps core errors to exit codes in one place (:class:`EvidenceGroup`),
so no command prints a traceback for a user error; `--debug` shows one.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cli import analysis, browse, bundling, correct, importing, keys, maintenance, record
from cli.exit_codes import for_error
from cli.render import clean
from cli.serving import serve
from cli.timestamping import timestamp


class EvidenceGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:
            if ctx.meta.get("evidence.debug"):
                raise
            _report(error)
            ctx.exit(int(for_error(error)))


def _report(error: Exception) -> None:
    from evidence.errors import EvidenceError, IntegrityFailure

    if isinstance(error, IntegrityFailure):
        click.echo(f"error: {clean(error)}", err=True)
        for problem in error.problems:
            click.echo(f"  - {clean(problem)}", err=True)
    elif isinstance(error, EvidenceError):
        click.echo(f"error: {clean(error)}", err=True)
    elif isinstance(error, OSError):
        click.echo(
            f"error: {clean(error.strerror or error)}: {clean(error.filename or '')}", err=True
        )
    else:
        click.echo(
            f"internal error ({type(error).__name__}); nothing was changed by the failed step. "
            "Run again with --debug for details.",
            err=True,
        )


@click.group(cls=EvidenceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="EVIDENCE_DEBUG", help="Show tracebacks on errors.")
@click.version_option(package_name="evidence", prog_name="evidence")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep an encrypted, tamper-evident log of debt-collection harassment.

    Record every collection call, SMS, message, visit, letter and contact of
    your family or employer; check that nothing was altered; back it up.
    Set EVIDENCE_STORE to choose where the log lives.
    """
    ctx.meta["evidence.debug"] = debug


cli.add_command(keys.init)
cli.add_command(record.log)
cli.add_command(browse.list_entries)
cli.add_command(browse.show)
cli.add_command(browse.attachment)
cli.add_command(correct.amend)
cli.add_command(correct.retract)
cli.add_command(maintenance.check)
cli.add_command(keys.passwd)
cli.add_command(keys.recover)
cli.add_command(maintenance.backup)
cli.add_command(maintenance.restore)
cli.add_command(serve)
cli.add_command(importing.import_command)
cli.add_command(bundling.bundle)
cli.add_command(bundling.verify)
cli.add_command(analysis.analyze)
cli.add_command(analysis.complaint)
cli.add_command(timestamp)


def main() -> None:
    cli.main(prog_name="evidence")


if __name__ == "__main__":
    sys.exit(main())
