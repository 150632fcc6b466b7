"""Tests for bot.adapters.artifacts: real files in tmp_path and a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.artifacts import verify_artifact
from bot.core.gate_inputs import ArtifactCheck

CONTENT = b"model weights " * 10_000  # 140 kB: several 64 KiB chunks
DIGEST = "sha256:" + hashlib.sha256(CONTENT).hexdigest()
WRONG = "sha256:" + "0" * 64


def check(
    uri: str, digest: str = DIGEST, *, root: Path, max_bytes: int = 10**6, timeout: float = 5.0
) -> ArtifactCheck:
    return verify_artifact(uri, digest, repo_root=root, max_bytes=max_bytes, timeout=timeout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "models" / "m.onnx").write_bytes(CONTENT)
    (tmp_path / "outside.bin").write_bytes(CONTENT)
    return root


class _Handler(http.server.BaseHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        if self.path == "/m.onnx":
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            self.wfile.write(CONTENT)
        elif self.path == "/chunked":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the size cap must stop the read
            self.wfile.write(CONTENT)
            self.close_connection = True
        elif self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            self.wfile.write(CONTENT[:100])
            self.wfile.flush()
            self.release.wait(10)
        elif self.path == "/trickle":  # a byte every 50 ms: each read is quick, the whole is not
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            for byte in CONTENT[:200]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.release.wait(0.05):
                    break
        else:
            self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- file:


def test_relative_file_uri_inside_the_repo_matches(repo: Path) -> None:
    got = check("file:models/m.onnx", root=repo)
    assert got.outcome == "ok"
    assert got.actual_digest == DIGEST
    assert got.bytes_read == len(CONTENT)


def test_absolute_file_uri_matches(repo: Path) -> None:
    got = check(f"file://{repo / 'models' / 'm.onnx'}", root=repo)
    assert got.outcome == "ok"


def test_file_with_other_content_is_a_mismatch_with_the_actual_digest(repo: Path) -> None:
    got = check("file:models/m.onnx", WRONG, root=repo)
    assert got.outcome == "mismatch"
    assert got.actual_digest == DIGEST
    assert DIGEST in got.detail and WRONG in got.detail


@pytest.mark.parametrize("uri", ["file:models/nope.onnx", "file:models"], ids=["no-such-file", "a-directory"])
def test_missing_or_non_regular_file_is_missing(repo: Path, uri: str) -> None:
    got = check(uri, root=repo)
    assert got.outcome == "missing"
    assert uri in got.detail


def test_relative_uri_climbing_out_with_dotdot_escapes_the_repo(repo: Path) -> None:
    got = check("file:../outside.bin", root=repo)
    assert got.outcome == "escapes-repo"
    assert got.bytes_read == 0


def test_relative_uri_through_a_symlink_out_of_the_repo_escapes_the_repo(repo: Path) -> None:
    (repo / "models" / "link.bin").symlink_to(repo.parent / "outside.bin")
    got = check("file:models/link.bin", root=repo)
    assert got.outcome == "escapes-repo"


def test_file_over_the_size_cap_is_too_large(repo: Path) -> None:
    got = check("file:models/m.onnx", root=repo, max_bytes=1000)
    assert got.outcome == "too-large"
    assert got.bytes_read <= 1000 + 64 * 1024


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [("s3://models/m.onnx", "s3"), ("gs://bucket/m", "gs"), ("models/m.onnx", "(none)")],
    ids=["s3", "gs", "no-scheme"],
)
def test_other_schemes_are_unsupported_with_a_hint(repo: Path, uri: str, scheme: str) -> None:
    got = check(uri, root=repo)
    assert got.outcome == "unsupported"
    assert got.detail == f"cannot verify scheme {scheme}; use a command gate"


def test_malformed_expected_digest_is_refused(repo: Path) -> None:
    got = check("file:models/m.onnx", "md5:abc", root=repo)
    assert got.outcome == "unsupported"
    assert "artifact.digest" in got.detail


# --------------------------------------------------------------------------- http:


def test_http_artifact_matches(server: str, tmp_path: Path) -> None:
    got = check(f"{server}/m.onnx", root=tmp_path)
    assert got.outcome == "ok"
    assert got.bytes_read == len(CONTENT)


def test_http_artifact_mismatch(server: str, tmp_path: Path) -> None:
    got = check(f"{server}/m.onnx", WRONG, root=tmp_path)
    assert got.outcome == "mismatch"
    assert got.actual_digest == DIGEST


@pytest.mark.parametrize("path", ["/m.onnx", "/chunked"], ids=["content-length", "no-length"])
def test_http_artifact_over_the_size_cap_is_too_large(server: str, tmp_path: Path, path: str) -> None:
    got = check(f"{server}{path}", root=tmp_path, max_bytes=1000)
    assert got.outcome == "too-large"


def test_http_404_is_unreachable(server: str, tmp_path: Path) -> None:
    got = check(f"{server}/missing", root=tmp_path)
    assert got.outcome == "unreachable"
    assert "404" in got.detail


def test_closed_port_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    got = check(f"http://127.0.0.1:{port}/m.onnx", root=tmp_path)
    assert got.outcome == "unreachable"


def test_stalled_server_times_out(server: str, tmp_path: Path) -> None:
    got = check(f"{server}/stall", root=tmp_path, timeout=0.3)
    assert got.outcome == "timeout"
    assert "0.3s" in got.detail


def test_trickling_server_hits_the_overall_deadline(server: str, tmp_path: Path) -> None:
    got = check(f"{server}/trickle", root=tmp_path, timeout=0.3)
    assert got.outcome == "timeout"
    assert 0 < got.bytes_read < 200
