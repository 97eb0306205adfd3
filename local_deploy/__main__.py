"""``python -m local_deploy deploy|destroy|drill|acceptance`` (what ``make deploy-local``, ``make destroy-local``, ``make drill-local``
and ``make acceptance LOCAL=1`` run).

Exit codes: 0 success, 1 failure (one line on stderr, no traceback; details in .local/deploy-local.log),
130 interrupted. Whatever happens, an emulator this command started is stopped unless ``--keep``.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from . import LocalDeployError
from .deploy import Options, deploy, destroy, project_context
from .generated import generated_context


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_deploy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy_parser = commands.add_parser("deploy", help="deploy every environment to a local emulator, check it, print a summary")
    deploy_parser.add_argument("--env", help="only this environment (default: all)")
    deploy_parser.add_argument("--keep", action="store_true", help="leave the emulator running for later commands (make destroy-local stops it)")
    deploy_parser.add_argument("--destroy", action="store_true", help="destroy the stacks again after the smoke check")
    deploy_parser.add_argument("--port", type=int, help="port of the emulator (default: a free one)")
    deploy_parser.add_argument("--verbose", action="store_true", help="show the CDK CLI's output")
    deploy_parser.add_argument("--tables", type=int, help="deploy a generated environment of this many tables instead of cdk.json's")
    drill_parser = commands.add_parser("drill", help="deploy locally, put items in each owned table, run every pipeline and verify what moved")
    drill_parser.add_argument("--env", help="only this environment (default: all)")
    drill_parser.add_argument("--port", type=int, help="port of the emulator (default: a free one)")
    drill_parser.add_argument("--items", type=int, default=2000, help="items put into each owned source table (default 2000)")
    drill_parser.add_argument("--verbose", action="store_true", help="show the CDK CLI's output")
    acceptance_parser = commands.add_parser("acceptance", help="deploy locally and run the acceptance run (ddb_datapipeline acceptance) "
                                                              "with the local runner in place of Data Pipeline")
    acceptance_parser.add_argument("--env", required=True, help="the environment")
    acceptance_parser.add_argument("--port", type=int, help="port of the emulator (default: a free one)")
    acceptance_parser.add_argument("--items", type=int, default=40, help="items seeded into each scratch source table (default 40)")
    acceptance_parser.add_argument("--verbose", action="store_true", help="show the CDK CLI's output")
    destroy_parser = commands.add_parser("destroy", help="destroy the stacks on the kept emulator (or AWS_ENDPOINT_URL) and stop it")
    destroy_parser.add_argument("--env", help="only this environment (default: all)")
    destroy_parser.add_argument("--verbose", action="store_true", help="show the CDK CLI's output")
    args = parser.parse_args(argv)
    options = Options(env=args.env, verbose=args.verbose)
    if args.command == "drill":
        options.port = args.port
        if not 1 <= args.items <= 100_000:
            print(f"drill-local: error: --items {args.items} is not allowed; expected 1 to 100000", file=sys.stderr)
            return 2
    if args.command == "acceptance":
        options.port = args.port
    if args.command == "deploy":
        options.keep, options.destroy, options.port = args.keep, args.destroy, args.port
        if args.tables is not None:
            if not 1 <= args.tables <= 500:
                print(f"deploy-local: error: --tables {args.tables} is not allowed; expected 1 to 500", file=sys.stderr)
                return 2
            options.context = generated_context(args.tables, project_context())
    name = f"{args.command}-local"
    try:
        if args.command == "deploy":
            deploy(options)
        elif args.command == "drill":
            from .drill import drill

            drill(options, args.items)
        elif args.command == "acceptance":
            from .acceptance_local import acceptance_local

            return acceptance_local(options, args.items)
        else:
            destroy(options)
    except LocalDeployError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted; the emulator it started is stopped", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not a user mistake: keep the traceback in the log, one line here
        options.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(options.log_path, "a", encoding="utf-8") as log:
            traceback.print_exc(file=log)
        print(f"{name}: error: unexpected {type(error).__name__}: {error} (traceback in {options.log_path})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
