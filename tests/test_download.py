"""The download against a server started here on 127.0.0.1 (no outside network)."""

import hashlib
import http.server
import socket
import threading

import pytest

from dislab.data.download import download
from dislab.errors import DownloadError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB fixture
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/broken":  # the connection drops half way
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_happy_path(server, tmp_path):
    out = download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256=SHA, size=len(PAYLOAD), progress=False)
    assert out.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == ["d.hdf5"]


def test_checksum_mismatch_deletes_the_file(server, tmp_path):
    with pytest.raises(DownloadError, match="sha256.*deleted"):
        download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256="0" * 64, progress=False)
    assert _leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_no_partial_file(server, tmp_path):
    with pytest.raises(DownloadError, match="broke off|stopped after"):
        download(f"{server}/broken", tmp_path / "d.hdf5", sha256=SHA, size=len(PAYLOAD), progress=False)
    assert _leftovers(tmp_path) == []
    # a retry succeeds and the final name holds the whole file
    download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    assert (tmp_path / "d.hdf5").read_bytes() == PAYLOAD


def test_http_error_and_no_network_name_the_alternatives(server, tmp_path):
    with pytest.raises(DownloadError, match="dataset.source: path.*dataset.source: synthetic"):
        download(f"{server}/missing", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more: connection refused, like a machine offline
    with pytest.raises(DownloadError, match="could not download.*dataset.source: synthetic"):
        download(f"http://127.0.0.1:{port}/d.hdf5", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    assert _leftovers(tmp_path) == []
