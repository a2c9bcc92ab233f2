"""Activity categories: what a turn and a session spent their time on, from tool calls alone.

A documented, deterministic rule set (docs/archive.md, "Activity categories"): each tool call gets
one category from its tool name and its target (:func:`categorize`); a turn gets the category most
of its tool calls have (ties: :data:`PRECEDENCE`), ``conversation`` when it made none; a session
likewise over all its tool calls, ``conversation`` when it has turns but no tool call.

Only the tool name and the short target a reader stored (a file path, a program name, a host, an
agent type — never arguments) are used, so the rules work the same on every source.

:data:`RULES_VERSION` names the rules; it travels in the contracts' meta (``activity_rules``) so a
consumer knows which rules made the labels. Changing any rule bumps it, and bumps the archive's
schema version so that archives built with older rules are rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

RULES_VERSION: Final = 1

Category = Literal[
    "coding", "reading", "testing", "debugging", "git", "docs", "planning", "delegation",
    "conversation", "other",
]  # fmt: skip
CATEGORIES: Final[tuple[Category, ...]] = (
    "coding", "reading", "testing", "debugging", "git", "docs", "planning", "delegation",
    "conversation", "other",
)  # fmt: skip

# Ties between categories with as many tool calls: the more specific intent wins.
PRECEDENCE: Final[tuple[Category, ...]] = (
    "delegation", "testing", "debugging", "git", "docs", "coding", "planning", "reading", "other",
    "conversation",
)  # fmt: skip
_RANK: Final = {c: i for i, c in enumerate(PRECEDENCE)}

# Tool names, compared lower-cased (Claude Code ``Edit``, OpenCode ``edit``, Codex ``apply_patch``).
_EDIT_TOOLS: Final = frozenset({"edit", "write", "multiedit", "notebookedit", "apply_patch", "patch"})
_READ_TOOLS: Final = frozenset({
    "read", "grep", "glob", "ls", "list", "notebookread", "webfetch", "websearch", "web_search",
    "view_image", "codesearch", "lsp_diagnostics", "read_file", "list_dir", "grep_files",
})  # fmt: skip
_PLAN_TOOLS: Final = frozenset({"todowrite", "todoread", "exitplanmode", "enterplanmode", "update_plan"})
_AGENT_TOOLS: Final = frozenset({"task", "agent", "spawn_agent", "send_input", "wait_agent"})
_SHELL_TOOLS: Final = frozenset(
    {"bash", "shell", "exec_command", "local_shell", "container.exec", "powershell"}
)

# Programs (the first word of a shell command, as readers store it).
_GIT: Final = frozenset({"git", "gh", "glab", "hg", "svn", "jj"})
_TEST: Final = frozenset({
    "pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha", "rspec", "phpunit", "ctest",
    "playwright", "cypress", "bats",
})  # fmt: skip
_DEBUG: Final = frozenset({
    "gdb", "lldb", "pdb", "strace", "ltrace", "valgrind", "journalctl", "dmesg", "lsof", "perf",
    "py-spy", "dlv",
})  # fmt: skip
_READ: Final = frozenset({
    "cat", "less", "more", "head", "tail", "ls", "find", "grep", "rg", "ag", "fd", "tree", "wc",
    "sed", "awk", "jq", "file", "stat", "pwd", "which", "du", "diff", "bat", "curl", "wget",
})  # fmt: skip
_DOC_SUFFIXES: Final = (".md", ".mdx", ".rst", ".txt", ".adoc")


def _is_doc(path: str) -> bool:
    p = path.lower()
    return p.endswith(_DOC_SUFFIXES) or "/docs/" in p or p.startswith("docs/")


def _is_test_path(path: str) -> bool:
    p = path.lower().rsplit("/", 1)
    name = p[-1]
    return (
        "/tests/" in f"/{path.lower()}"
        or "/test/" in f"/{path.lower()}"
        or name.startswith("test_")
        or ".test." in name
        or ".spec." in name
        or name.endswith("_test.go")
    )


def categorize(name: str, target: str | None) -> Category:
    """The category of one tool call (rules in order; the first that applies wins):

    1. delegation — a subagent tool (``Task``/``Agent``, Codex ``spawn_agent``, OpenCode ``task``);
    2. planning — a plan or to-do tool (``TodoWrite``, ``ExitPlanMode``, Codex ``update_plan``);
    3. an edit tool (``Edit``/``Write``/``MultiEdit``/``NotebookEdit``, ``apply_patch``): docs when
       the file is documentation (``.md``/``.rst``/``.txt``/``.adoc`` or under ``docs/``), testing
       when it is a test file (under ``tests/``/``test/``, ``test_*``, ``*.test.*``, ``*.spec.*``,
       ``*_test.go``), else coding;
    4. a read or search tool (``Read``/``Grep``/``Glob``/``LS``/``WebFetch``/``WebSearch`` …): reading;
    5. a shell tool by its program: git/VCS (``git``, ``gh``, ``hg`` …), testing (``pytest``,
       ``jest`` …), debugging (``gdb``, ``strace``, ``journalctl`` …), reading (``cat``, ``rg``,
       ``ls`` …); any other program is coding (builds, scripts, package managers), no program other;
    6. anything else (MCP tools, unknown tools): other.
    """
    tool = name.lower()
    if tool in _AGENT_TOOLS:
        return "delegation"
    if tool in _PLAN_TOOLS:
        return "planning"
    if tool in _EDIT_TOOLS:
        if target is None:
            return "coding"
        if _is_doc(target):
            return "docs"
        return "testing" if _is_test_path(target) else "coding"
    if tool in _READ_TOOLS:
        return "reading"
    if tool in _SHELL_TOOLS:
        if not target:
            return "other"
        program = target.rsplit("/", 1)[-1].lower()
        if program in _GIT:
            return "git"
        if program in _TEST:
            return "testing"
        if program in _DEBUG:
            return "debugging"
        return "reading" if program in _READ else "coding"
    return "other"


def dominant(counts: Mapping[str, int]) -> Category | None:
    """The category with the most tool calls (ties: :data:`PRECEDENCE`); ``None`` when empty."""
    best: Category | None = None
    for cat in PRECEDENCE:
        n = counts.get(cat, 0)
        if n > 0 and (best is None or n > counts[best]):
            best = cat
    return best


def of_calls(categories: Iterable[str]) -> Category:
    """A turn's category from its tool calls' categories: :func:`dominant`, or conversation."""
    counts: dict[str, int] = {}
    for c in categories:
        counts[c] = counts.get(c, 0) + 1
    return dominant(counts) or "conversation"


# SQL: the precedence rank of ``tool_calls.category`` (the turn update picks the lowest count-rank).
RANK_SQL: Final = "CASE category " + " ".join(f"WHEN '{c}' THEN {i}" for c, i in _RANK.items()) + " END"
