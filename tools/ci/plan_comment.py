"""Render one stack's `terraform show -no-color` output as its section of the pull request's plan comment.

Each section starts with a hidden marker (`<!-- llmgw-plan:<stack> -->`) and its verdict line; the comment job
joins the sections under one summary table into a single comment that every push updates in place. The plan
text is cut at a line boundary to fit the section's share (`--budget`) of GitHub's 65,536-character comment
limit, control characters are
dropped, and the code fence is longer than any backtick run in the text, so plan content can
never close the fence and turn into markdown. Values Terraform marks sensitive are already shown as
`(sensitive value)` by `terraform show`; this module adds no values of its own.

    python -m tools.ci.plan_comment --stack aws-dev --plan-text plan.txt --outcome success \
        --output comment.md
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

MARKER_TEMPLATE = "<!-- llmgw-plan:{stack} -->"
# GitHub rejects comment bodies over 65,536 characters; leave room for the header and footer.
DEFAULT_BUDGET = 60_000

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SUMMARY = re.compile(r"^(Plan: .* to destroy\.|No changes\..*|Changes to Outputs:)$", re.MULTILINE)
_STACK = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_OUTCOMES = ("success", "failure", "cancelled", "skipped")


def marker(stack: str) -> str:
    """The hidden first line that identifies a stack's comment."""
    if not _STACK.match(stack):
        raise ValueError(f"stack name {stack!r} must match {_STACK.pattern}")
    return MARKER_TEMPLATE.format(stack=stack)


def clean(text: str) -> str:
    """Plan text without colour codes or control characters (tabs and newlines kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n")))


def summary(text: str) -> str:
    """Terraform's one-line verdict ("Plan: 1 to add, ..." / "No changes. ..."), or a neutral fallback."""
    found = _SUMMARY.findall(text)
    return found[-1] if found else "No plan summary line found in the output."


def truncate(text: str, budget: int) -> tuple[str, int]:
    """Whole lines of `text` fitting in `budget` characters, and how many lines were left out."""
    if len(text) <= budget:
        return text, 0
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) > budget:
            break
        kept.append(line)
        used += len(line)
    return "".join(kept), len(lines) - len(kept)


def fence_for(text: str) -> str:
    """A backtick fence longer than the longest backtick run inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render(*, stack: str, plan_text: str, outcome: str, sha: str, run_url: str, budget: int = DEFAULT_BUDGET) -> str:
    """The full comment body for one stack."""
    if outcome not in _OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(_OUTCOMES)}")
    if not _SHA.match(sha):
        raise ValueError(f"commit {sha!r} is not a hex commit id")
    if not run_url.startswith("https://"):
        raise ValueError(f"run url {run_url!r} must be an https URL")
    head = [marker(stack), f"### `terraform plan`: `{stack}`", ""]
    foot = ["", f"Commit `{sha[:12]}` · [workflow run]({run_url})"]
    if outcome != "success":
        body = [f"**Plan {outcome}.** The plan text is not posted; see the workflow run log."]
        return "\n".join([*head, *body, *foot]) + "\n"

    text = clean(plan_text)
    shown, omitted = truncate(text, budget)
    fence = fence_for(shown)
    note = (
        f"\n_{omitted} more lines not shown; the full plan is in the plan job's log of the workflow run._"
        if omitted
        else ""
    )
    body = [
        f"**{summary(text)}**",
        "",
        "<details><summary>Show plan</summary>",
        "",
        f"{fence}text",
        shown.rstrip("\n"),
        fence,
        "</details>",
    ]
    return "\n".join([*head, *body]) + note + "\n" + "\n".join(foot) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--plan-text", type=Path, help="output of `terraform show -no-color tfplan`")
    parser.add_argument("--outcome", required=True, help="outcome of the plan step")
    parser.add_argument("--sha", required=True)
    parser.add_argument("--run-url", required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument(
        "--budget", type=int, default=DEFAULT_BUDGET, help="characters of plan text at most (the section's share)"
    )
    args = parser.parse_args(argv)

    plan_text = ""
    if args.outcome == "success":
        if args.plan_text is None or not args.plan_text.is_file():
            print("error: --plan-text is required when the plan succeeded", file=sys.stderr)
            return 2
        plan_text = args.plan_text.read_text(encoding="utf-8", errors="replace")
    try:
        body = render(
            stack=args.stack,
            plan_text=plan_text,
            outcome=args.outcome,
            sha=args.sha,
            run_url=args.run_url,
            budget=args.budget,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
