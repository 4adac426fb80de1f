"""A tiny authoritative DNS server of our own for tests: real UDP on 127.0.0.1.

It answers TXT questions from a dict {name: [strings]} (a long string is
split into 255-byte chunks as real zones do), NXDOMAIN for unknown names,
built on dnspython's message parser so the wire format is the real one.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = {k.rstrip(".").lower(): v for k, v in records.items()}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()

    def __enter__(self) -> "DnsServer":
        self._sock.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            if name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                texts = []
                for value in self.records[name]:
                    raw = value.encode()
                    chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
                    texts.append(" ".join('"' + c.decode().replace('"', '\\"') + '"' for c in chunks))
                response.answer.append(dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN,
                                                                dns.rdatatype.TXT, texts))
            try:
                self._sock.sendto(response.to_wire(), peer)
            except OSError:
                pass
