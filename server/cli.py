"""The `webkeras` command line.

    webkeras serve [--host 127.0.0.1] [--port 8000] [--data-dir DIR] [--build-dir DIR]
                   [--workers N] [--timeout SECONDS]
    webkeras convert IN OUT [--quantize uint8|uint16|float16] [--shard-size BYTES]
                            [--weights-only] [--config MODEL_JSON]
    webkeras check MODEL [--inputs X.npy|X.npz] [--backend webgpu|numpy|auto] [--atol A]
                         [--tab-model PATH]
"""

import argparse
import sys
import warnings

from .testing import BACKENDS, DEFAULT_ATOL


def serve(args):
    from . import serving
    from .app import create_app

    app = create_app(data_dir=args.data_dir, build_dir=args.build_dir)
    kind = f"gunicorn, {args.workers} workers" if args.workers else "development server"
    print(f"webkeras: serving on http://{args.host}:{args.port}/ ({kind})", file=sys.stderr)
    if args.workers:
        serving.run_gunicorn(app, args.host, args.port, args.workers, args.timeout)
    else:
        serving.run_development(app, args.host, args.port, args.timeout, args.debug)
    return 0


def convert(args):
    from webkeras.saving import tfjs

    shard_size = tfjs.DEFAULT_SHARD_SIZE if args.shard_size is None else args.shard_size
    try:
        # Warnings (a file TF.js itself cannot load) are part of the command's report.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            written = tfjs.convert(args.input, args.output, quantize=args.quantize,
                                   shard_size=shard_size, weights_only=args.weights_only,
                                   config=args.config)
    except (OSError, ValueError, TypeError) as error:
        print(f"webkeras convert: {error}", file=sys.stderr)
        return 1
    for warning in caught:
        print(f"webkeras convert: warning: {warning.message}", file=sys.stderr)
    print(f"webkeras convert: wrote {written}", file=sys.stderr)
    return 0


def check(args):
    # Playwright and Flask (the test extras) load only for this command.
    try:
        from .testing.check import run
    except ImportError as error:
        print(f"webkeras check: needs Flask and Playwright ({error}): "
              "pip install 'webkeras[test]'", file=sys.stderr)
        return 2
    return run(args)


def build_parser():
    parser = argparse.ArgumentParser(prog="webkeras", description="webkeras tools")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve the web app (training page, runtime)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--data-dir", default=None, help="dataset folder to serve")
    serve_parser.add_argument("--build-dir", default=None,
                              help="folder holding pyodide/ and vendor/ (default: <repo>/build)")
    serve_parser.add_argument("--debug", action="store_true", help="Flask debug mode (reloader)")
    serve_parser.add_argument("--workers", type=int, default=0, metavar="N",
                              help="serve with gunicorn, N worker processes (default: Flask's "
                                   "development server)")
    serve_parser.add_argument("--timeout", type=int, default=60, metavar="SECONDS",
                              help="drop a connection silent this long (default 60)")
    serve_parser.set_defaults(func=serve)

    convert_parser = commands.add_parser(
        "convert", help="convert between .keras / .h5 / .weights.h5 and TF.js layers models",
        description="IN .keras/.h5 (or .weights.h5 with --config) -> OUT TF.js directory; "
                    "IN TF.js model.json (or its directory) -> OUT .keras/.h5/.weights.h5.")
    convert_parser.add_argument("input", metavar="IN")
    convert_parser.add_argument("output", metavar="OUT")
    convert_parser.add_argument("--quantize", choices=["uint8", "uint16", "float16"],
                                default=None, help="quantize float weights (TF.js output)")
    convert_parser.add_argument("--shard-size", type=int, default=None,
                                metavar="BYTES", help="bytes per weight shard (default 4 MiB)")
    convert_parser.add_argument("--weights-only", action="store_true",
                                help="write weights without the architecture")
    convert_parser.add_argument("--config", default=None, metavar="MODEL_JSON",
                                help="architecture for weights-only input: a model.to_json() "
                                     "file or a TF.js model.json")
    convert_parser.set_defaults(func=convert)

    check_parser = commands.add_parser(
        "check", help="compare a model's predictions in a headless browser tab with native ones",
        description="Load MODEL natively and in a headless Chromium tab, predict the same inputs "
                    "in both and print the largest difference per output. Exit status 1 when "
                    "an output differs by more than --atol, 2 on errors.")
    check_parser.add_argument("model", metavar="MODEL",
                              help="a .keras or .h5 file, or a TF.js model folder (or its "
                                   "model.json)")
    check_parser.add_argument("--inputs", metavar="X.npy|X.npz", default=None,
                              help="inputs to predict (.npz: one array per model input, by "
                                   "input name or in order); default: seeded random inputs, "
                                   "batch 4")
    check_parser.add_argument("--backend", choices=BACKENDS, default="auto",
                              help="the tab's backend (default auto: webgpu where the browser "
                                   "has an adapter, else numpy)")
    check_parser.add_argument("--atol", type=float, default=DEFAULT_ATOL,
                              help=f"largest allowed |tab - native| per element (default "
                                   f"{DEFAULT_ATOL:g})")
    check_parser.add_argument("--tab-model", metavar="PATH", default=None,
                              help="load this file in the tab instead of MODEL (e.g. MODEL's "
                                   "TF.js export), to check that the copy matches the original")
    check_parser.set_defaults(func=check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
