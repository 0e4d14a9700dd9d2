#!/usr/bin/env python3
"""smtp-sink.py - a real SMTP server on loopback for the tests (aiosmtpd).

Writes each message it accepts to DIR as a file of its own, NNNNNN.eml:
"X-Sink-Mail-From: <addr>" and one "X-Sink-Rcpt-To: <addr>" line per RCPT
TO, then the message's bytes exactly as received (after SMTP's
dot-unstuffing).  Files appear whole (written aside, then renamed).

    smtp-sink.py --dir DIR --port-file FILE [--port N] [--delay MS]
                 [--starttls CERT KEY | --smtps CERT KEY] [--auth USER:PASS]
                 [--reject ADDR]... [--defer ADDR]...

With --port 0 (the default) it picks a free port; the port is written to
FILE once it listens.  --delay waits MS milliseconds before it answers a
message's data (the message is kept whether the client waits or not).
--starttls requires STARTTLS before MAIL FROM, --smtps speaks TLS from the
start, both with that certificate and key; --auth requires that login
(PLAIN or LOGIN, over TLS).  --reject answers 550 to RCPT TO of ADDR,
--defer 451.  SIGTERM stops it.
"""
import argparse
import asyncio
import os
import signal
import socket
import ssl
import sys
import threading

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:
    # Debian's python3-aiosmtpd, under another interpreter (pyenv).
    sys.path.append('/usr/lib/python3/dist-packages')
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, out, delay, reject, defer):
        self.out = out
        self.delay = delay
        self.reject = reject
        self.defer = defer
        self.lock = threading.Lock()
        self.n = len([f for f in os.listdir(out) if f.endswith('.eml')])

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address in self.reject:
            return '550 no such user here'
        if address in self.defer:
            return '451 try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        head = 'X-Sink-Mail-From: <%s>\r\n' % envelope.mail_from
        for r in envelope.rcpt_tos:
            head += 'X-Sink-Rcpt-To: <%s>\r\n' % r
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode('utf-8', 'surrogateescape')
        with self.lock:
            self.n += 1
            name = os.path.join(self.out, '%06d.eml' % self.n)
        with open(name + '.tmp', 'wb') as f:
            f.write(head.encode() + data)
        os.rename(name + '.tmp', name)
        if self.delay:
            await asyncio.sleep(self.delay / 1000)
        return '250 OK'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--delay', type=int, default=0)
    ap.add_argument('--starttls', nargs=2, metavar=('CERT', 'KEY'))
    ap.add_argument('--smtps', nargs=2, metavar=('CERT', 'KEY'))
    ap.add_argument('--auth')
    ap.add_argument('--reject', action='append', default=[])
    ap.add_argument('--defer', action='append', default=[])
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    port = a.port
    if port == 0:
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
    kw = {}
    if a.starttls or a.smtps:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*(a.starttls or a.smtps))
        if a.starttls:
            kw.update(tls_context=ctx, require_starttls=True)
        else:
            kw.update(ssl_context=ctx)
    if a.auth:
        user, password = a.auth.split(':', 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user and
                  auth_data.password.decode() == password)
            # handled=False: aiosmtpd answers 535 itself on a failure
            # (its default, True, would leave the client waiting).
            return AuthResult(success=ok, handled=False)
        # Under implicit TLS aiosmtpd does not see the session as TLS
        # (it knows only STARTTLS): it would never offer AUTH.
        kw.update(authenticator=check, auth_required=True,
                  auth_require_tls=not a.smtps)
    c = Controller(Sink(a.dir, a.delay, a.reject, a.defer),
                   hostname='127.0.0.1', port=port, decode_data=False,
                   server_hostname='127.0.0.1', **kw)
    c.start()
    with open(a.port_file + '.tmp', 'w') as f:
        f.write('%d\n' % port)
    os.rename(a.port_file + '.tmp', a.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    c.stop()


if __name__ == '__main__':
    main()
