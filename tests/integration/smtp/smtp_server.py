#!/usr/bin/python3
"""A real SMTP server for Strata's tests: Debian's aiosmtpd on 127.0.0.1, port 0.

Prints "PORT <n>" once it listens. Every message it accepts becomes NNNN.eml (the exact
bytes of the DATA section, dot-unstuffed as RFC 5321 says) and NNNN.json (envelope, TLS,
AUTH), written to a temporary name and renamed, so a reader never sees half a file. Every
DATA attempt, accepted or not, adds a line to attempts.log.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, out, fail_first, reject, tempfail_until):
        self.out = out
        self.tempfail_until = tempfail_until
        self.fail_left = fail_first
        self.reject = reject
        self.count = 0

    def _write(self, name, data):
        path = os.path.join(self.out, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)

    async def handle_DATA(self, server, session, envelope):
        with open(os.path.join(self.out, "attempts.log"), "a") as f:
            f.write(" ".join(envelope.rcpt_tos) + "\n")
        if self.reject:
            return "%d 5.7.1 rejected by the test server" % self.reject
        if self.tempfail_until and not os.path.exists(self.tempfail_until):
            return "451 4.3.0 not yet"
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        stem = "%04d" % self.count
        self._write(stem + ".eml", envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": session.ssl is not None,
            "auth": session.auth_data if isinstance(session.auth_data, str) else None,
        }
        self._write(stem + ".json", json.dumps(meta).encode())
        return "250 2.0.0 queued as " + stem


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--require-tls", action="store_true")
    parser.add_argument("--auth", help="user:password, AUTH required (over TLS only)")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 451 to this many DATA")
    parser.add_argument("--tempfail-until", help="answer 451 to every DATA until this file exists")
    parser.add_argument("--reject", type=int, default=0, help="answer this 5xx code to every DATA")
    parser.add_argument("--port", type=int, default=0, help="listen on this port (0: a free one)")
    args = parser.parse_args()

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, _, password = args.auth.partition(":")
        if isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
                and auth_data.password == password.encode():
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    handler = Recorder(args.dir, args.fail_first, args.reject, args.tempfail_until)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(handler, hostname="smtp.test.example", tls_context=tls, require_starttls=args.require_tls,
                    auth_required=bool(args.auth), auth_require_tls=True,
                    authenticator=authenticator if args.auth else None, loop=loop)

    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", args.port,
                                                                reuse_address=True))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


if __name__ == "__main__":
    sys.exit(main())
