#!/usr/bin/env python3
"""Acumatica ERP simulator: start it and it serves until killed.

    python3 tests/sim/acumatica_sim.py --port 0 [options]

The first line of stdout is the base URL (http://127.0.0.1:PORT/<site>);
with --tls it is https and the second line is the path of the CA file that
signs the server certificate. SIGTERM or SIGINT stop it cleanly (exit 0).
See tests/sim/README.md for the options and the /_sim/ control interface.
"""
import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from config import DEFAULTS          # noqa: E402
from control import check_offset, validate_config   # noqa: E402
from server import Simulator         # noqa: E402
import tls_certs                     # noqa: E402

SEED_SIZES = ("customers", "items", "warehouses", "orders", "lines", "shipments")


def _limit(text):
    """An integer limit, or None for "none"/"off"/"unlimited"."""
    if text.lower() in ("none", "off", "unlimited"):
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local Acumatica ERP simulator (tests/sim/README.md).")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = a free one)")
    p.add_argument("--site-path", default=DEFAULTS["site_path"], help="site (virtual directory)")
    p.add_argument("--tls", action="store_true",
                   help="serve https with a throw-away CA (its path is printed second)")
    p.add_argument("--seed", type=int, help="seed data deterministically with this seed")
    for name in SEED_SIZES:
        p.add_argument("--" + name, type=int, help="number of %s to seed" % name
                       if name != "lines" else "lines per seeded order")
    p.add_argument("--seed-json", help="extra seed parameters as a JSON object")
    p.add_argument("--tz-offset", help="the instance's time-zone offset, e.g. -05:00")
    p.add_argument("--requests-per-minute", type=_limit, default=argparse.SUPPRESS,
                   help="license limit (default off)")
    p.add_argument("--concurrent-requests", type=_limit, default=argparse.SUPPRESS,
                   help="license limit (default off)")
    p.add_argument("--api-user-seats", type=_limit, default=argparse.SUPPRESS,
                   help="API-user seats (default %s; 'none' = unlimited)" % DEFAULTS["api_user_seats"])
    p.add_argument("--queue-limit", type=int, help="license queue length before 429 (default 20)")
    p.add_argument("--queue-timeout", type=float, help="seconds a request may queue (default 600)")
    p.add_argument("--token-lifetime", type=int, help="access-token lifetime in seconds (3600)")
    p.add_argument("--refresh-mode", choices=("absolute", "sliding", "none"))
    p.add_argument("--session-idle-timeout", type=float, help="seconds (default 600)")
    p.add_argument("--auto-approve", action="store_true",
                   help="/identity/connect/authorize redirects at once, no consent page")
    p.add_argument("--redirect-uri", action="append",
                   help="allowed OAuth redirect URI (repeat; replaces the default list)")
    p.add_argument("--config-json", help="any configuration keys as a JSON object")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr (masked)")
    # "--tz-offset -05:00" would read as an option; join it as "--tz-offset=-05:00".
    joined, i = [], 0
    while i < len(argv):
        if argv[i] == "--tz-offset" and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            joined.append("--tz-offset=" + argv[i + 1])
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return p.parse_args(joined)


def build(args):
    """(config overrides, seed params) from the parsed arguments; exits on errors."""
    overrides = {"site_path": "/" + args.site_path.strip("/") if args.site_path.strip("/") else "/"}
    pairs = [("time_zone_offset", args.tz_offset), ("access_token_lifetime", args.token_lifetime),
             ("refresh_mode", args.refresh_mode), ("session_idle_timeout", args.session_idle_timeout),
             ("queue_limit", args.queue_limit), ("queue_timeout", args.queue_timeout),
             ("redirect_uris", args.redirect_uri)]
    for key, value in pairs:
        if value is not None:
            overrides[key] = value
    for key in ("requests_per_minute", "concurrent_requests", "api_user_seats"):
        if hasattr(args, key):                 # given, possibly as "none"
            overrides[key] = getattr(args, key)
    if args.auto_approve:
        overrides["auto_approve"] = True
    if args.config_json:
        extra = json.loads(args.config_json)
        validate_config(extra)
        overrides.update(extra)
    if "time_zone_offset" in overrides:
        check_offset(overrides["time_zone_offset"])
    validate_config(overrides)
    seed = {}
    if args.seed_json:
        seed.update(json.loads(args.seed_json))
    if args.seed is not None:
        seed["seed"] = args.seed
    for name in SEED_SIZES:
        if getattr(args, name) is not None:
            seed[name] = getattr(args, name)
    return overrides, (seed or None)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        overrides, seed = build(args)
    except ValueError as exc:                  # includes json.JSONDecodeError
        sys.stderr.write("acumatica_sim: %s\n" % exc)
        return 2
    tls_paths = tls_certs.make_certificates() if args.tls else None

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sim = Simulator(overrides, seed_params=seed, verbose=args.verbose)
    try:
        sim.bind(args.port, tls_certs.server_context(tls_paths) if tls_paths else None)
        sim.seed_at_start()
        sys.stdout.write(sim.base_url + "\n")
        if tls_paths:
            sys.stdout.write(tls_paths["ca"] + "\n")
        sys.stdout.flush()
        sim.serve_forever()
    except SystemExit:
        pass
    finally:
        if sim.httpd is not None:
            sim.httpd.server_close()
        if tls_paths:
            tls_certs.remove(tls_paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
