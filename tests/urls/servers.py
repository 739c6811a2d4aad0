"""Real HTTP(S) listeners on loopback, standing in for media hosts and for internal services.

A listener answers GET with what its ``answers`` say per path and records every request it
receives (path and ``Host``), so a test can require that an internal listener saw nothing.
:class:`PublicRoute` is the transport that plays the internet: requests the fetch addressed to
a test's "public" address go to a local listener; everything else goes out as addressed, so an
internal address that the policy failed to refuse would really be reached.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from emotion_clf.urls import PUBLIC_MESSAGE, UrlFetchError, UrlPolicy, fetch_url

PUBLIC = "93.184.216.34"
OTHER_PUBLIC = "93.184.216.35"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


@dataclass
class Answer:
    status: int = 200
    body: bytes = WAV
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "audio/wav"})
    content_length: bool = True
    trickle_s: float | None = None  # an endless body, one byte every trickle_s seconds
    stall_s: float = 0.0  # wait this long before answering at all


@dataclass(frozen=True)
class Seen:
    path: str
    host: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class Listener:
    """Answers GET on ``address`` (127.0.0.1 or ::1), recording what it receives."""

    def __init__(
        self,
        answers: dict[str, Answer] | None = None,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answers = answers if answers is not None else {"/x.wav": Answer()}
        self.requests: list[Seen] = []
        self.sni: list[str | None] = []
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(Seen(self.path, self.headers.get("Host", "")))
                answer = outer.answers.get(self.path.split("?")[0], Answer(404, b"nothing"))
                if outer.stop.wait(answer.stall_s):
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.trickle_s is not None:
                    self.send_header("Content-Length", "1000000")
                elif answer.content_length:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.trickle_s is None:
                    self.wfile.write(answer.body)
                    return
                try:
                    while not outer.stop.wait(answer.trickle_s):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:  # the client hung up: what a deadline does
                    return

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = _Server6 if ":" in address else _Server
        self.server = server_class((address, port), Handler)
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class PublicRoute(httpx.AsyncBaseTransport):
    """Sends what is addressed to ``routes``' keys (address, port) to 127.0.0.1:value instead.

    Everything else goes where it is addressed. ``sent`` records each request as
    (address, port, Host) as the fetch made it, before any rerouting.
    """

    def __init__(self, routes: dict[tuple[str, int], int], verify: ssl.SSLContext | bool = True):
        self.routes = routes
        self.sent: list[tuple[str, int, str]] = []
        self.inner = httpx.AsyncHTTPTransport(retries=0, verify=verify, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        self.sent.append((request.url.host, port, request.headers.get("Host", "")))
        if (request.url.host, port) in self.routes:
            request.url = request.url.copy_with(
                host="127.0.0.1", port=self.routes[request.url.host, port]
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` that is its own CA, and its key (as PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Internal:
    """One port on 127.0.0.1 and on ::1, answering /x.wav."""

    def __init__(self) -> None:
        for _ in range(20):
            self.v4 = Listener()
            try:
                self.v6 = Listener(address="::1", port=self.v4.port)
                return
            except OSError:  # the port is taken on ::1: another pair
                self.v4.close()
        raise RuntimeError("no port free on both 127.0.0.1 and ::1")

    @property
    def port(self) -> int:
        return self.v4.port

    @property
    def requests(self) -> list[Seen]:
        return self.v4.requests + self.v6.requests

    def close(self) -> None:
        self.v4.close()
        self.v6.close()


class TableResolver:
    """Answers from a table, counting the calls (the fetch must ask once per hop)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


def refused(url: str, policy: UrlPolicy, folder: Path, **kwargs: object) -> UrlFetchError:
    with pytest.raises(UrlFetchError) as caught:
        fetch_url(url, policy, folder=folder, **kwargs)  # type: ignore[arg-type]
    assert caught.value.public == PUBLIC_MESSAGE
    assert list(folder.iterdir()) == []  # nothing half-written is left
    return caught.value


def redirecting(public: Listener, location: str, status: int = 302) -> None:
    """Make ``public`` answer ``/go`` with a redirect to ``location``."""
    public.answers["/go"] = Answer(status, b"", {"Location": location})
