"""Installed as `sitecustomize.py` for a peer's run: `*.myshopify.com` resolves to 127.0.0.1 and
port 443 to the sandbox's TLS port, so a tool that insists on https://{shop}.myshopify.com reaches
the sandbox unchanged (its certificate verifies against the CA in SSL_CERT_FILE and
REQUESTS_CA_BUNDLE). No root, no /etc/hosts.
"""

import os
import socket

TLS_PORT = int(os.environ["SANDBOX_TLS_PORT"])
HTTPS_PORTS = (443, "443", "https", None)
_system_getaddrinfo = socket.getaddrinfo


def _resolve(host: object, port: object) -> tuple[object, object]:
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and (name == "myshopify.com" or name.endswith(".myshopify.com")):
        return "127.0.0.1", TLS_PORT if port in HTTPS_PORTS else port
    return host, port


def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
    host, port = _resolve(host, port)
    return _system_getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
