"""MSAL Python (the real library, pinned in requirements.txt) on a token cache, for tests/tests/msal_interop.rs.

Reads one JSON request on stdin, prints one JSON answer on stdout. The library's HTTP goes through a client of
this script (`http_client=`), never to the network:

- "offline": metadata GETs (discovery documents) are answered from the request; any other request, and every
  token request, is recorded and fails. A cache hit must therefore need no request at all.
- "bridge": the library's authority is `public` (https, as MSAL Python accepts no other scheme); requests are
  forwarded to the test provider at `real` (plain http on loopback), and `real` is written back as `public` in
  the answers, as a TLS-terminating proxy in front of the provider would present it.

Request: {"command": "silent" | "client_credentials" | "authorization_code" (with "code", "redirect_uri"), "authority": {"oidc": url} | {"entra": url},
          "client_id", "client_secret", "cache": MSAL JSON or null, "scopes": [...], "force_refresh": bool,
          "http": {"mode": "offline", "get": {url: json}, "post": {url: json}} | {"mode": "bridge", "public", "real"}}
Answer:  {"accounts": [...], "result": {...} | null, "requests": ["GET url", "POST url", ...], "cache": MSAL JSON}
"""
import json
import sys
from urllib.parse import urlsplit, urlunsplit

import msal
import requests


class Response:
    """What MSAL Python reads of an HTTP response (the shape of a `requests.Response`)."""

    def __init__(self, status_code, text, headers=None):
        self.status_code = status_code
        self.text = text
        self.headers = headers or {}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}: {self.text}")


def without_query(url):
    scheme, netloc, path, _, _ = urlsplit(url)
    return urlunsplit((scheme, netloc, path, "", ""))


class OfflineClient:
    """Answers metadata GETs from the request; every other request is recorded and fails."""

    def __init__(self, get, post, requests_made):
        self.get_answers = {without_query(url): body for url, body in (get or {}).items()}
        self.post_answers = {without_query(url): body for url, body in (post or {}).items()}
        self.requests = requests_made

    def get(self, url, params=None, headers=None, **kwargs):
        self.requests.append(f"GET {without_query(url)}")
        body = self.get_answers.get(without_query(url))
        if body is None:
            raise requests.ConnectionError(f"offline: no network for GET {url}")
        return Response(200, json.dumps(body), {"content-type": "application/json"})

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.requests.append(f"POST {without_query(url)}")
        body = self.post_answers.get(without_query(url))
        if body is None:
            raise requests.ConnectionError(f"offline: no network for POST {url}")
        return Response(200, json.dumps(body), {"content-type": "application/json"})

    def close(self):
        pass


class BridgeClient:
    """Forwards `public` URLs to the provider at `real` and presents its answers as coming from `public`."""

    def __init__(self, public, real, requests_made):
        self.public = public.rstrip("/")
        self.real = real.rstrip("/")
        self.requests = requests_made
        self.session = requests.Session()

    def _forward(self, method, url, **kwargs):
        self.requests.append(f"{method} {without_query(url)}")
        if not url.startswith(self.public):
            raise requests.ConnectionError(f"bridge: {url} is not under {self.public}")
        answer = self.session.request(method, self.real + url[len(self.public):], timeout=10, **kwargs)
        return Response(answer.status_code, answer.text.replace(self.real, self.public), dict(answer.headers))

    def get(self, url, params=None, headers=None, **kwargs):
        return self._forward("GET", url, params=params, headers=headers)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self._forward("POST", url, params=params, data=data, headers=headers)

    def close(self):
        self.session.close()


def main():
    request = json.load(sys.stdin)
    requests_made = []
    http = request["http"]
    if http["mode"] == "offline":
        client = OfflineClient(http.get("get"), http.get("post"), requests_made)
    else:
        client = BridgeClient(http["public"], http["real"], requests_made)

    cache = msal.SerializableTokenCache()
    if request.get("cache"):
        cache.deserialize(request["cache"])
    authority = request["authority"]
    options = dict(client_credential=request["client_secret"], token_cache=cache, http_client=client)
    if "oidc" in authority:
        # MSAL Python 1.28+: an OpenID Connect authority that is not Entra ID.
        options["oidc_authority"] = authority["oidc"]
    else:
        options["authority"] = authority["entra"]
    app = msal.ConfidentialClientApplication(request["client_id"], **options)

    scopes = request.get("scopes") or []
    accounts = app.get_accounts()
    result = None
    if request["command"] == "silent":
        if accounts:
            result = app.acquire_token_silent_with_error(
                scopes, account=accounts[0], force_refresh=bool(request.get("force_refresh")))
    elif request["command"] == "client_credentials":
        result = app.acquire_token_for_client(scopes)
    elif request["command"] == "authorization_code":
        result = app.acquire_token_by_authorization_code(
            request["code"], scopes, redirect_uri=request["redirect_uri"])
        accounts = app.get_accounts()
    else:
        raise SystemExit(f"unknown command {request['command']!r}")

    print(json.dumps({
        "accounts": accounts,
        "result": result,
        "requests": requests_made,
        "cache": cache.serialize(),
    }))


if __name__ == "__main__":
    main()
