#!/usr/bin/env python3
"""A stand-in browser for OAuth flows started by real clients (mcp-remote): xdg-open runs
`$BROWSER <url>`; this fetches ilert-mcp's sign-in page, submits the demo key with read-write
access, and follows the redirect to the client's loopback callback, as a user clicking Allow would.
Only 127.0.0.1 is contacted. Its log goes to $FAKE_BROWSER_LOG when set."""
import html
import http.cookiejar
import os
import re
import sys
import urllib.parse
import urllib.request

KEY = os.environ.get("FAKE_BROWSER_KEY", "demo-key-user")


def log(message: str) -> None:
    path = os.environ.get("FAKE_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(message + "\n")


def main(url: str) -> int:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        log(f"refusing non-loopback URL {url}")
        return 1
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url, timeout=10).read().decode()
    found = re.search(r'name="request" value="([^"]+)"', page)
    if not found:
        log("no sign-in form on the page")
        return 1
    form = urllib.parse.urlencode({"request": html.unescape(found.group(1)), "api_key": KEY,
                                   "scope": "write", "decision": "allow"}).encode()
    action = urllib.parse.urljoin(url, "/authorize")
    # The 303 to the client's callback is followed as a GET, like a browser does.
    answer = opener.open(urllib.request.Request(action, data=form), timeout=10)
    log(f"signed in; callback answered HTTP {answer.status}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except Exception as e:  # noqa: BLE001 - report and fail, like a browser tab showing an error
        log(f"failed: {e}")
        sys.exit(1)
