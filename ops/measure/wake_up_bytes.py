#!/usr/bin/env python3
"""Bytes of wake_up and check_contexts in a 60-context project (#10): locks 60 realistic rules through /execute,
then prints the size of each tool's result (compact JSON, as /execute returns it).

usage: wake_up_bytes.py <base-url> <api-key> [project]"""
import json
import sys
import urllib.request

AREAS = ["api", "database", "testing", "deploy", "security", "logging", "frontend", "review", "release", "oncall",
         "errors", "naming"]
RULES = [
    "Endpoints return problem+json on errors, with a stable type URI per error and the request id in the detail.",
    "We must keep migrations backwards compatible for one release so that a rollback never needs a down migration.",
    "Tests never talk to the network; use the in-memory fakes in test/support and record new fixtures with the recorder.",
    "Deploys go through the pipeline only: main is deployed to staging automatically, production needs a tagged release.",
    "Never log secrets, tokens or personal data; the logger masks known fields but do not rely on it.",
    "Log one line per event in logfmt, with the request id; debug logs stay off in production.",
    "Components are function components with hooks; shared state lives in the store, not in context providers.",
    "Every pull request needs one approval and green CI; the author merges, squash only.",
    "Releases are cut on Tuesdays; the release notes are generated from the conventional commit messages.",
    "The on-call rotates weekly; pages for the database go to the platform team first.",
    "Wrap lower-level errors with context (what we were doing), never swallow them; map to HTTP statuses in one place.",
    "Names: snake_case in the database, camelCase in JSON, kebab-case for URLs and files.",
]
EXTRA = [
    " This is important because several clients parse it.",
    " It must always hold, including for internal tools.",
    " See the wiki page for the history of this decision.",
    " Exceptions need a note in the pull request explaining why.",
    " ALWAYS check this before touching the related code.",
]


def call(base, key, tool, arguments):
    body = json.dumps({"tool": tool, "arguments": arguments}).encode()
    req = urllib.request.Request(base + "/execute", data=body, headers={"Authorization": "Bearer " + key,
                                                                      "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        answer = json.loads(res.read())
    if not answer.get("success"):
        raise SystemExit(tool + " failed: " + json.dumps(answer))
    return answer["result"]


def main():
    base, key = sys.argv[1], sys.argv[2]
    project = sys.argv[3] if len(sys.argv) > 3 else "sixty"
    for i in range(60):
        area = AREAS[i % len(AREAS)]
        content = RULES[i % len(RULES)] + EXTRA[i % len(EXTRA)] + (" (variant %d)" % i)
        call(base, key, "lock_context", {"topic": "%s-%02d" % (area, i), "content": content, "project": project})
    wake = call(base, key, "wake_up", {"project": project})
    check = call(base, key, "check_contexts", {"text": "I am adding an endpoint that returns an error when the user is missing",
                                               "project": project})
    compact = lambda v: len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode())
    print(json.dumps({"wake_up_bytes": compact(wake), "check_contexts_bytes": compact(check),
                      "always_check": len(wake.get("contexts", {}).get("always_check", [])) if isinstance(wake.get("contexts"), dict) else None}))


if __name__ == "__main__":
    main()
