"""The client's address behind a reverse proxy, believed only from the proxies named in TRUSTED_PROXIES.

Without it every client would share the proxy's address (one guesser would throttle everyone's
sign-in); believing X-Forwarded-For from anyone would let each request choose its own address
(and escape every throttle). So the header is read only when the peer is a configured proxy,
and then from the right: each trusted proxy appended the address it saw, and the first address
that is not a trusted proxy is the client.
"""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix applied to a request only when its peer is trusted,
    with as many X-Forwarded-For hops as there are trusted proxies in the chain."""

    def __init__(self, app, proxies: list[str]):
        self.app = app
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies]

    def trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if not self.trusted(environ.get("REMOTE_ADDR")):
            return self.app(environ, start_response)
        chain = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        hops = 1
        while hops < len(chain) and self.trusted(chain[-hops]):
            hops += 1
        return ProxyFix(self.app, x_for=hops, x_proto=1)(environ, start_response)
