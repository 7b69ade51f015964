"""A release server on 127.0.0.1 for tests: serves ``/releases/<tag>/<name>`` from a directory per tag.

It counts requests by path, so tests can say what was (and was not) fetched.
"""

from __future__ import annotations

import http.server
import threading
from collections import Counter
from pathlib import Path
from typing import Any


class ReleaseServer:
    """Serves ``/releases/<tag>/<name>`` from ``releases[tag]`` (a directory) and counts requests by path."""

    def __init__(self) -> None:
        self.releases: dict[str, Path] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.hits[self.path] += 1
                parts = self.path.split("/")
                directory = server.releases.get(parts[2]) if len(parts) == 4 and parts[1] == "releases" else None
                file = directory / parts[3] if directory is not None else None
                if file is None or not file.is_file():
                    self.send_error(404)
                    return
                body = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/releases"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, tag: str, directory: Path) -> ReleaseServer:
        """Serve ``directory`` as release ``tag`` (and only it), with the counts reset."""
        self.hits.clear()
        self.releases = {tag: directory}
        return self

    def count(self, name: str, tag: str) -> int:
        return self.hits[f"/releases/{tag}/{name}"]

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
