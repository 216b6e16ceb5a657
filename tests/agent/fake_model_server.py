"""A stand-in model server for tests: answers like Ollama, like an OpenAI-compatible
server, or like neither. Run: python fake_model_server.py HOST PORT ollama|openai|other"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "ollama": {"/api/tags": {"models": [{"name": "llama3.2:3b", "details": {"format": "gguf"}}]}},
    "openai": {"/v1/models": {"object": "list", "data": [{"id": "qwen2.5-7b-instruct"}]}},
    "other": {"/api/tags": {"tags": ["v1", "v2"]}, "/v1/models": {"error": "not here"}},
}


def main() -> None:
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = ANSWERS[mode].get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    print("ready", flush=True)
    server.timeout = 1
    for _ in range(120):  # stops by itself after about two minutes
        server.handle_request()


if __name__ == "__main__":
    main()
