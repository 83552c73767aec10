"""``moldojo serve``: a local web explorer of a trained model, on http://127.0.0.1:8000/.

Panels: sample (a grid with QED, logP and SA, downloadable), interpolate, neighbours, motif
tree, and optimise (best so far and the top molecules live, cancellable). Binds 127.0.0.1
unless ``--host`` says otherwise (and then warns: the page has no login). Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from moldojo.cli.generate_common import load_model
from moldojo.errors import MoldojoError, quote_input

HELP = "a local web explorer of a trained model (default: the shipped one)"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                        help="run directory or checkpoint (default: the shipped one)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")  # fmt: skip
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_free(host: str, port: int) -> None:
    """One line, before the model loads, if the address cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise MoldojoError(f"--host {quote_input(host)}: not an address here ({error})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = "in use" if error.errno == 98 else error.strerror or str(error)
            raise MoldojoError(f"cannot listen on {host}:{port}: {reason}; choose another "
                               "--port") from None  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from moldojo.serve import create_app

    _check_free(args.host, args.port)
    if not _loopback(args.host):
        print(f"moldojo: warning: serving on {args.host}: anyone who can reach this machine "
              "can use the model (there is no login)", file=sys.stderr)  # fmt: skip
    model = load_model(args.run_dir, args.device)
    app = create_app(model, name=args.run_dir or "shipped " + model.kind)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"moldojo: serving the {model.kind} model on http://{shown}:{args.port}/ "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
