"""The `webkeras` command line.

    webkeras serve [--host 127.0.0.1] [--port 8000] [--data-dir DIR] [--build-dir DIR]
"""

import argparse
import sys


def serve(args):
    from .app import create_app

    app = create_app(data_dir=args.data_dir, build_dir=args.build_dir)
    print(f"webkeras: serving on http://{args.host}:{args.port}/train", file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=args.debug, threaded=True)
    return 0


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
    serve_parser.set_defaults(func=serve)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
