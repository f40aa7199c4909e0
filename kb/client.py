"""The client of a running `kb serve`, for `kb --server URL search|ask`: the standard library only,
never through a proxy (a question stays on the office's network)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from kb.errors import RemoteError


def remote(server: str, path: str, params: dict) -> dict:
    """GET a `kb serve` endpoint; its JSON error (a Chinese message) becomes a StudyKBError."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    url = server.rstrip("/") + path + "?" + query
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a question never goes via a proxy
    try:
        with direct.open(url, timeout=120) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8"))["error"]
        except (ValueError, KeyError):
            message = f"HTTP {exc.code}"
        raise RemoteError(server, message) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(server, f"无法连接检索服务（{getattr(exc, 'reason', exc)}）。请确认 kb serve 已启动，"
                                  "或去掉 --server / STUDYKB_SERVER 在本机检索。") from exc
