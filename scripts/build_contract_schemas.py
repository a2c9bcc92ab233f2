"""Write contracts/v1/{sessions,usage,activity,compare,plans,analytics}.schema.json (JSON Schema 2020-12).

The published files are self-contained (a consumer validates with any Draft 2020-12 validator and
nothing else); the pieces they share (meta, pricing, tokens, cost …) are written once, here.
``tests/test_contract_schemas.py`` fails when the files differ from what this script writes.

Policy, stated in every schema: consumers ignore unknown keys; producers may add fields without a
version bump (``additionalProperties`` is ``true`` wherever an object lists its properties).
Anything else — a removed or renamed field, a changed type or meaning, a new value of a closed
enum, a changed order or cursor semantics — bumps ``schema_version`` and the schema file.

Run: ``python scripts/build_contract_schemas.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "contracts" / "v1"
BASE = "https://burn.dev/contracts/v1"
VERSIONS = {"sessions": 1, "usage": 1, "activity": 1, "compare": 1, "plans": 1, "analytics": 1}
STAMP_FIELDS = ("workflow", "agent", "persona", "tier")  # burn.records.STAMP_FIELDS
USAGE_BY = ("day", "week", "month", "session", "model", "project", "machine", *STAMP_FIELDS)

POLICY = (
    "Additional properties: consumers must ignore keys they do not know; producers may add fields "
    "without a schema_version bump. Removing or renaming a field, changing its type or meaning, "
    "adding a value to a closed enum, or changing the order or cursor semantics bumps schema_version."
)

J = dict[str, Any]


def obj(description: str, props: dict[str, J], required: list[str] | None = None) -> J:
    return {
        "type": "object",
        "description": description,
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": True,
    }


def t(kind: str | list[str], description: str, **extra: Any) -> J:
    return {"type": kind, "description": description, **extra}


def nint(description: str) -> J:
    return t(["integer", "null"], description, minimum=0)


def count(description: str) -> J:
    return t("integer", description, minimum=0)


def ts(description: str, nullable: bool = True) -> J:
    pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"
    return t(["string", "null"] if nullable else "string", description + " (UTC, RFC 3339).", pattern=pattern)


def counter_map(description: str) -> J:
    return {"type": "object", "description": description, "additionalProperties": count("Count.")}


MICROS = "Integer micro-USD (1 USD = 1,000,000): exact sums of per-turn costs; never a float."
COST_SOURCE = t(
    "string",
    "How the amount was obtained: computed (tokens × rates), reported (the source's own figure), "
    "mixed (both kinds of turns), none (no turn could be costed).",
    enum=["computed", "reported", "mixed", "none"],
)

TOKENS = obj(
    "Token usage summed over turns. A field is null when no turn reported it (unknown is never zero).",
    {
        "input": nint("Input tokens, excluding cache reads and cache writes."),
        "output": nint("Output tokens, including reasoning tokens."),
        "reasoning": nint("The part of output spent reasoning (never added on top of output)."),
        "cache_read": nint("Tokens read from the prompt cache."),
        "cache_write_5m": nint("Tokens written to the prompt cache with a 5-minute lifetime."),
        "cache_write_1h": nint("Tokens written to the prompt cache with a 1-hour lifetime."),
        "web_search_requests": nint("Server-side web search requests (a count of requests, not tokens)."),
        "total": nint(
            "input + output + cache_read + cache_write_5m + cache_write_1h of the known fields; "
            "null when all five are unknown."
        ),
    },
)


COMPONENTS = {
    **obj(
        "The cost split by component (integer micro-USD; added in v1 without a bump). input + output "
        "+ cache_read + cache_write_5m + cache_write_1h + web_search + reported is exactly "
        "total_usd_micros: each turn's computed cost is split by largest remainder, so its parts sum "
        "to it. reasoning is the part of output spent reasoning (inside output, never added). Null "
        "when total_usd_micros is null.",
        {
            "input": count("Input tokens (without cache)."),
            "output": count("Output tokens, reasoning included."),
            "reasoning": nint("The part of output spent reasoning; null when no computed turn reported it."),
            "cache_read": count("Cache reads."),
            "cache_write_5m": count("5-minute cache writes."),
            "cache_write_1h": count("1-hour cache writes."),
            "web_search": count("Web search requests."),
            "reported": count("Costs the source reported for turns burn could not compute (no split)."),
        },
    ),
    "type": ["object", "null"],
}


def cost(description: str, extra: dict[str, J] | None = None, components: bool = False) -> J:
    props = {"total_usd_micros": t(["integer", "null"], f"Cost. {MICROS} Null when no turn was costed.")}
    props.update(extra or {})
    props["cost_source"] = COST_SOURCE
    required = list(props)
    if components:
        props["components"] = COMPONENTS
    return obj(description, props, required)


RATE = t(["string", "null"], "USD per million tokens, a decimal string (exact; never a float).")
RATES = {
    "input_per_mtok": RATE,
    "output_per_mtok": RATE,
    "cache_read_per_mtok": RATE,
    "cache_write_5m_per_mtok": RATE,
    "cache_write_1h_per_mtok": RATE,
}
MODEL_RATES = {
    "description": "The rates a model id was priced with, or null when it is unpriced.",
    "anyOf": [
        {"type": "null"},
        {
            "type": "object",
            "description": "Matched pricing row and its rates.",
            "properties": {
                "matched": t("string", "The pricing table row that priced the model."),
                "match": t("string", "How the id matched: exact, normalized or fallback."),
                **RATES,
                "tiers": t(
                    "array",
                    "Long-context tiers: rates above an input-token threshold.",
                    items={
                        "type": "object",
                        "description": "One tier.",
                        "additionalProperties": True,
                        "properties": {
                            "threshold": count("Input tokens above which the tier applies."),
                            **RATES,
                        },
                    },
                ),
                "fast": {
                    "type": "object",
                    "description": "Rates of the fast (priority) mode.",
                    "properties": RATES,
                    "additionalProperties": True,
                },
                "web_search_per_request": t("string", "USD per web search request (decimal string)."),
            },
            "required": ["matched", "match", *RATES],
            "additionalProperties": True,
        },
    ],
}

PRICING = obj(
    "Pricing provenance of the numbers in this document (docs/pricing.md), bounded to its models.",
    {
        "source": t(["string", "null"], "Where the effective table came from: bundled, or bundled+override."),
        "table": {
            **obj(
                "The pricing table that produced the costs.",
                {
                    "name": t("string", "Table name (burn-pricing for the bundled table)."),
                    "version": t("string", "Table version (the date it was built)."),
                },
            ),
            "type": ["object", "null"],
        },
        "digest": t(
            ["string", "null"],
            "sha256 of the RFC 8785 bytes of the canonical table that produced "
            "the archive's costs (`burn pricing show --json | sha256sum`).",
        ),
        "custom_rows": count("Rows from the user's override file."),
        "cost_source": COST_SOURCE,
        "fallback": obj(
            "Models priced by a fallback row (another model's rates).",
            {
                "used": t("boolean", "Whether any model in the payload was priced by fallback."),
                "models": t("array", "Those model ids, sorted.", items={"type": "string"}),
            },
        ),
        "unpriced_models": t(
            "array",
            "Model ids in the payload with turns no row could price, sorted.",
            items={"type": "string"},
        ),
        "stale": t(
            "boolean",
            "True when the archive was priced with another table than the effective "
            "one (run `burn archive build`); rates are then omitted.",
        ),
        "effective_digest": t("string", "Digest of the effective table, present only when stale."),
        "models": {
            "type": "object",
            "description": "Model id (every model in the payload) → its rates.",
            "additionalProperties": MODEL_RATES,
        },
    },
    required=["source", "table", "digest", "cost_source", "fallback", "unpriced_models", "stale"],
)

PROJECT = obj(
    "A project's identity under the document's identity profile (DESIGN §9).",
    {
        "key": t("string", "The project key as shown in rows: sha256:… (or hmac-sha256:… under anonymous)."),
        "kind": t(
            "string",
            "git_remote (stable across machines) or path (machine-local).",
            enum=["git_remote", "path"],
        ),
        "resolution": t(
            "string",
            "resolved, unknown (not a git repository or gone) or ambiguous "
            "(several remotes, none named origin).",
            enum=["resolved", "unknown", "ambiguous"],
        ),
        "machine_local": t(
            "boolean",
            "Whether the key is derived from a local path (not shareable across "
            "machines). Absent under anonymous.",
        ),
        "label": t(
            ["string", "null"], "owner/repo, or the directory name under full. Absent under anonymous."
        ),
        "remote": t(
            ["string", "null"], "Normalized remote host/owner/repo (no credentials). Absent under anonymous."
        ),
        "path": t(["string", "null"], "The git root or directory. Only under full."),
        "branch": t(["string", "null"], "Branch at the latest observation. Only under full."),
    },
    required=["key", "kind", "resolution"],
)

QUALITY_SOURCE = obj(
    "Ingest counters of one source, summed over every ingest, and the archive's unpriced volume.",
    {
        "lines_read": count("Lines (or records) the reader read."),
        "records_kept": count("Records appended to the ledger."),
        "duplicates_dropped": counter_map("Records dropped by a deduplication rule, by rule."),
        "invalid_skipped": counter_map("Input skipped as unreadable, by reason."),
        "unpriced_turns": count("Turns no pricing row could price."),
        "unpriced_tokens": count("Tokens of those turns."),
    },
)

FILTERS = obj(
    "The canonical filters the rows were selected with (what a cursor binds).",
    {
        "timezone": t("string", "IANA time zone dates and buckets were read in."),
        "since": ts("Start of the window, inclusive, or null"),
        "until": ts("End of the window, exclusive, or null"),
        "sources": t("array", "Only these sources (empty: all), sorted.", items={"type": "string"}),
        "projects": t(
            "array",
            "Only these project keys, under the profile (empty: all), sorted.",
            items={"type": "string"},
        ),
        "models": t("array", "Only these model ids (empty: all), sorted.", items={"type": "string"}),
        "machines": t(
            "array",
            "Only turns first seen by these machine keys (sha256:…), sorted; present only when some "
            "are chosen (added in the additive change of issue 13).",
            items={"type": "string"},
        ),
    },
)
OPTIONAL_FILTERS = ("machines",)  # additive: documents without them are unchanged


def meta(surface: str, page: bool, filters_extra: dict[str, J]) -> J:
    f = json.loads(json.dumps(FILTERS))
    f["properties"].update(filters_extra)
    f["required"] = [k for k in f["properties"] if k not in OPTIONAL_FILTERS]
    f["properties"]["stamps"] = obj(  # not required: present only when stamp filters were given
        "Only sessions stamped with these values (`--workflow`, `--agent`, `--persona`, `--tier`): "
        "stamp field → sorted values; absent without stamp filters (added in v1 without a bump).",
        {k: t("array", f"Only these {k} values, sorted.", items={"type": "string"}) for k in STAMP_FIELDS},
        required=[],
    )
    props: dict[str, J] = {
        "type": t("string", "Line discriminator: meta.", const="meta"),
        "contract": t("string", "Contract name.", const=f"burn.{surface}"),
        "schema_version": t("integer", "Version of this surface's contract.", const=VERSIONS[surface]),
        "schema": t(
            "string", "$id of the schema the document follows.", const=f"{BASE}/{surface}.schema.json"
        ),
        "generated_at": ts("When the document was written", nullable=False),
        "burn_version": t("string", "Version of burn that wrote it."),
        "archive": obj(
            "The archive the rows come from.",
            {
                "id": t("string", "Archive id: stable across `burn archive rebuild`."),
                "generation": count("Rebuild generation: increases with every rebuild."),
            },
        ),
        "timezone": t("string", "IANA time zone used for dates and buckets."),
        "filters": f,
        "order": t(["string", "null"], "The rows' total order (see docs/contracts.md)."),
        "identity_profile": t(
            "string", "What keys, labels and paths may show.", enum=["full", "shareable", "anonymous"]
        ),
        "pricing": PRICING,
        "projects": {
            "type": "object",
            "description": "Project key (as in rows) → identity under the profile; "
            "only projects that appear in the payload.",
            "additionalProperties": PROJECT,
        },
        "activity_rules": obj(
            "The rules that made the sessions' activity categories (added in v1 without a bump).",
            {
                "version": count("Rules version (burn.archive.activity.RULES_VERSION)."),
                "categories": t("array", "The categories the rules can give.", items={"type": "string"}),
            },
        ),
        "quality": obj(
            "Ingest quality counters of the whole archive (not only the payload).",
            {
                "scope": t("string", "What the counters cover.", const="archive"),
                "sources": {
                    "type": "object",
                    "description": "Source name → counters.",
                    "additionalProperties": QUALITY_SOURCE,
                },
            },
        ),
    }
    required = [k for k in props if k != "activity_rules"]  # added later: not required of old documents
    if page:
        props["page"] = obj(
            "This page of a paged export.",
            {
                "limit": nint("Rows per page, or null with --all."),
                "watermark": count(
                    "The archive change sequence number fixed by the first page; rows created "
                    "after it are not part of this export."
                ),
                "snapshot_rows": count(
                    "Rows the watermark admits under the filters (every page of the export)."
                ),
                "rows_before": count("Rows emitted by the previous pages."),
            },
        )
        required.append("page")
    return obj(
        f"The meta block of a burn.{surface} document: line 1 of NDJSON, `meta` of JSON.", props, required
    )


def end() -> J:
    return obj(
        "The last NDJSON line: a stream without it was cut.",
        {
            "type": t("string", "Line discriminator: end.", const="end"),
            "count": count("Rows in this document."),
            "rows_digest": t(
                "string",
                "sha256 over RFC 8785 bytes of every row, each followed by a newline, "
                "in order (docs/contracts.md).",
                pattern="^sha256:[0-9a-f]{64}$",
            ),
            "cursor": obj(
                "Continuation.",
                {
                    "next": t(
                        ["string", "null"],
                        "Opaque cursor of the next page (pass to --cursor), or null when "
                        "this was the last page.",
                    ),
                },
            ),
        },
    )


def schema(
    surface: str,
    title: str,
    description: str,
    row_name: str,
    row: J,
    page: bool,
    filters_extra: dict[str, J],
    summary: J | None,
) -> J:
    defs: dict[str, J] = {"meta": meta(surface, page, filters_extra), row_name: row, "end": end()}
    doc_props: dict[str, J] = {
        "meta": {"$ref": "#/$defs/meta"},
        "rows": {
            "type": "array",
            "description": "The rows, in order.",
            "items": {"$ref": f"#/$defs/{row_name}"},
        },
    }
    branches = [{"$ref": "#/$defs/document"}, {"$ref": "#/$defs/meta"}, {"$ref": f"#/$defs/{row_name}"}]
    if summary is not None:
        defs["summary"] = summary
        for name in summary["properties"]:
            if name != "type":
                doc_props[name] = {"$ref": f"#/$defs/summary/properties/{name}"}
        branches.append({"$ref": "#/$defs/summary"})
    branches.append({"$ref": "#/$defs/end"})
    end_props = defs["end"]["properties"]
    doc_props.update({k: end_props[k] for k in ("count", "rows_digest", "cursor")})
    defs["document"] = obj(
        f"A burn.{surface} JSON document (--format json).",
        doc_props,
    )
    defs["document"]["not"] = {"required": ["type"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/{surface}.schema.json",
        "title": title,
        "description": f"{description} A JSON document, or any one line of the NDJSON stream. {POLICY}",
        "x-schema-version": VERSIONS[surface],
        "oneOf": branches,
        "$defs": defs,
    }


BY_MODEL_SESSION = obj(
    "One model's share of the session.",
    {
        "model": t("string", "Model id as the source reported it."),
        "turns": count("Assistant turns (billed responses) of this model."),
        "tokens": TOKENS,
        "cost": cost("Cost of this model's turns."),
        "unpriced_turns": count("Turns no pricing row could price."),
        "fallback_turns": count("Turns priced by a fallback row."),
    },
)

SESSION = obj(
    "One session (NDJSON line or element of rows).",
    {
        "type": t("string", "Line discriminator: session.", const="session"),
        "session_id": t(
            "string", "The source's session id (subagents: parent/agent-id); an HMAC under anonymous."
        ),
        "source": t("string", "The agent the session came from (claude-code, codex, opencode …)."),
        "machine": t("string", "Stable key of the burn home that recorded it; never a host name."),
        "machine_name": t("string", "Host name. Only under full."),
        "project_key": t(
            ["string", "null"], "Project key (see meta.projects), null when the working directory is unknown."
        ),
        "relationship": t(
            "string",
            "root, subagent, fork or continuation.",
            enum=["root", "subagent", "fork", "continuation"],
        ),
        "parent_session_id": t(["string", "null"], "The parent session (subagents, forks, continuations)."),
        "classification": t(
            ["string", "null"],
            "interactive or automated (null when unknown).",
            enum=["interactive", "automated", None],
        ),
        "started_at": ts("First event of the session"),
        "ended_at": ts("Last event of the session"),
        "last_activity_at": ts("Last event of the session or of any subagent descendant"),
        "duration_seconds": nint("ended_at − started_at in whole seconds."),
        "models": t("array", "Model ids of its turns, sorted.", items={"type": "string"}),
        "counts": obj(
            "Counts of the session's own events.",
            {
                "assistant_turns": count("Billed model responses."),
                "user_turns": count(
                    "User prompts: user messages with content other than tool results, "
                    "excluding meta and compaction-summary messages."
                ),
                "tool_calls": count("Tool invocations."),
                "compactions": count("Context compactions."),
                "subagents": count("Direct child sessions with relationship subagent."),
            },
        ),
        "tokens": TOKENS,
        "cost": cost(
            "The session's cost.",
            {
                "including_children_usd_micros": t(
                    ["integer", "null"], f"Own cost plus the cost of every subagent descendant. {MICROS}"
                ),
            },
            components=True,
        ),
        "by_model": t("array", "Per-model rows, sorted by model.", items=BY_MODEL_SESSION),
        "fidelity": obj(
            "How much of the truth the numbers carry.",
            {
                "usage": t(
                    "string",
                    "full, partial (some turns lack fields) or none (the source recorded no usage).",
                    enum=["full", "partial", "none"],
                ),
                "unknown_fields": counter_map("Usage field → turns that did not report it."),
                "notes": t("array", "Specific gaps noted at ingest, sorted.", items={"type": "string"}),
                "unpriced_turns": count("Turns no pricing row could price (their cost is unknown)."),
                "fallback_turns": count("Turns priced by a fallback row."),
            },
        ),
        "activity": obj(
            "What the session's tool calls did (added in v1 without a bump; rules: docs/archive.md).",
            {
                "category": t(
                    ["string", "null"],
                    "The category most of its tool calls have (ties: a fixed precedence): coding, "
                    "reading, testing, debugging, git, docs, planning, delegation, other; "
                    "conversation with turns but no tool call; null with neither. The values are "
                    "those of meta.activity_rules.categories for rules_version.",
                ),
                "tool_calls": counter_map("Category → tool calls."),
                "rules_version": count("Version of the rules that made the labels."),
            },
        ),
        "stamps": obj(
            "Enrichment stamps (`burn stamp`, RELAYBURN_STAMP_*; added in v1 without a bump): null "
            "when not stamped.",
            {
                "workflow": t(["string", "null"], "Workflow id."),
                "agent": t(["string", "null"], "Agent name."),
                "persona": t(["string", "null"], "Persona."),
                "tier": t(["string", "null"], "Tier."),
            },
        ),
        "project_label": t(
            ["string", "null"],
            "The project's label under the profile (meta.projects[project_key].label): a repository "
            "owner/repo under shareable, also a directory name under full; null under anonymous or "
            "when unknown (added in v1 without a bump).",
        ),
        "worktree": t(
            ["string", "null"],
            "The linked git worktree the session ran in (null in a main checkout or when unknown): "
            "its root under full, the root's directory name under shareable; null under anonymous "
            "(added in v1 without a bump).",
        ),
        "timing": obj(
            "How long the session's own turns took (docs/accounting.md, Timing; subagents' turns are "
            "in their own rows; added in v1 without a bump). Counts are integers; every measure is "
            "null when no turn of the session had it, never 0.",
            {
                "turns_timed": count("Assistant turns with a known duration."),
                "duration_ms_total": nint("Sum of the known turn durations, ms."),
                "duration_ms_median": nint(
                    "Median of the known turn durations, ms (the lower middle of an even count)."
                ),
                "latency_turns": count("Assistant turns with a known latency (prompt to first output)."),
                "latency_ms_median": nint(
                    "Median of the known latencies, ms (the lower middle of an even count)."
                ),
                "output_tokens_per_s": t(
                    ["string", "null"],
                    "Output tokens per second over the turns with both a duration above 0 and a "
                    "known output: their output × 1000 ÷ their duration, a decimal string to one "
                    "place (half-even).",
                    pattern=r"^\d+\.\d$",
                ),
                "user_turns_timed": count(
                    "User turns with a known wall time (prompt until the agent stopped)."
                ),
                "wall_ms_total": nint("Sum of the known user-turn wall times, ms."),
            },
        ),
        "cwd": t(["string", "null"], "Working directory. Only under full."),
        "branch": t(
            ["string", "null"],
            "Git branch (redacted at ingest). Under full as stored; under shareable only when it "
            "carries no secret, else null (shareable added in v1 without a bump); absent under "
            "anonymous.",
        ),
        "title": t(["string", "null"], "Session title. Only under full."),
    },
    required=[
        "type",
        "session_id",
        "source",
        "machine",
        "project_key",
        "relationship",
        "parent_session_id",
        "classification",
        "started_at",
        "ended_at",
        "last_activity_at",
        "duration_seconds",
        "models",
        "counts",
        "tokens",
        "cost",
        "by_model",
        "fidelity",
    ],
)


def breakdown(key: str, key_desc: J) -> J:
    return t(
        "array",
        f"Breakdown by {key}, sorted by key; always present, possibly empty.",
        items=obj(
            f"One {key}'s share.",
            {
                key: key_desc,
                "turns": count("Assistant turns."),
                "sessions": count("Distinct sessions with turns."),
                "tokens": TOKENS,
                "cost": cost("Cost.", components=True),
            },
        ),
    )


USAGE_PARTS: dict[str, J] = {
    "turns": count("Assistant turns (billed responses)."),
    "sessions": count("Distinct sessions with turns."),
    "tokens": TOKENS,
    "cost": cost("Cost.", components=True),
    "models": t("array", "Model ids, sorted.", items={"type": "string"}),
    "by_model": breakdown("model", t("string", "Model id.")),
    "by_project": breakdown(
        "project_key", t(["string", "null"], "Project key under the profile (null: unknown).")
    ),
    "by_source": breakdown("source", t("string", "Source name.")),
}

USAGE_ROW = obj(
    "One bucket of usage: a local day, ISO week or month, or one session, model, project or machine.",
    {
        "type": t("string", "Line discriminator: usage.", const="usage"),
        "by": t(
            "string", "The grouping (workflow, agent, persona, tier: the sessions' stamps).", enum=[*USAGE_BY]
        ),
        "key": t(
            ["string", "null"],
            "The bucket: YYYY-MM-DD, YYYY-Www (ISO week), YYYY-MM, a session id, a "
            "model id, a project key (null: unknown project) or a stamp value (null: not stamped).",
        ),
        "source": t(["string", "null"], "The session's source (by session), else null."),
        "start": ts("Start of a time bucket, inclusive (null for other groupings)"),
        "end": ts("End of a time bucket, exclusive (null for other groupings)"),
        **USAGE_PARTS,
    },
)

USAGE_SUMMARY = obj(
    "After the rows (NDJSON: one summary line).",
    {
        "type": t("string", "Line discriminator: summary.", const="summary"),
        "totals": obj("Totals over every row.", USAGE_PARTS),
    },
)

ACT_COST = cost("Cost of the turns in the bucket.")
ACT_PARTS: dict[str, J] = {
    "agent_seconds": count(
        "Agent-seconds: per session, time between consecutive messages with every gap "
        "capped (see range.gap_cap_seconds), summed over sessions."
    ),
    "sessions": count("Distinct sessions with activity or turns."),
    "turns": count("Assistant turns."),
    "output_tokens": count("Output tokens of those turns (unknown counts as 0 here)."),
    "cost": ACT_COST,
}


def rollup(key: str, key_desc: J) -> J:
    return t(
        "array",
        f"Rollup by {key}, sorted by key; always present, possibly empty.",
        items=obj(f"One {key}.", {key: key_desc, **ACT_PARTS}),
    )


BUCKET = obj(
    "One time bucket of activity.",
    {
        "type": t("string", "Line discriminator: bucket.", const="bucket"),
        "start": ts("Bucket start, inclusive", nullable=False),
        "end": ts("Bucket end, exclusive", nullable=False),
        **ACT_PARTS,
        "peak_concurrency": count("Most sessions active at the same instant within the bucket."),
        "partial": t(
            "boolean",
            "The requested range cuts this (first or last) bucket: its measures include time outside "
            "the range (added in v1 without a bump).",
        ),
    },
    required=["type", "start", "end", *ACT_PARTS, "peak_concurrency"],
)

ACTIVITY_SUMMARY = obj(
    "After the rows (NDJSON: one summary line).",
    {
        "type": t("string", "Line discriminator: summary.", const="summary"),
        "range": obj(
            "The reported range, widened to whole buckets.",
            {
                "start": ts("Range start", nullable=False),
                "end": ts("Range end", nullable=False),
                "bucket": t("string", "Bucket size option.", enum=["15m", "1h", "1d"]),
                "bucket_seconds": count("Nominal bucket length (local days may be 23 or 25 hours)."),
                "gap_cap_seconds": count("Longest gap between consecutive messages counted as activity."),
                "requested_start": ts("The --since asked for, whole seconds (added in v1 without a bump)"),
                "requested_end": ts("The --until asked for, whole seconds (added in v1 without a bump)"),
                "partial_start": t(
                    "boolean", "The first bucket starts before requested_start (added in v1 without a bump)."
                ),
                "partial_end": t(
                    "boolean", "The last bucket ends after requested_end (added in v1 without a bump)."
                ),
            },
            required=["start", "end", "bucket", "bucket_seconds", "gap_cap_seconds"],
        ),
        "peak": obj(
            "The busiest instant.",
            {
                "concurrency": count("Sessions active at once."),
                "at": ts("When (the first such instant), null without activity"),
            },
        ),
        "totals": obj("Totals over the range.", ACT_PARTS),
        "by_project": rollup("project_key", t(["string", "null"], "Project key under the profile.")),
        "by_model": rollup(
            "model",
            t(
                ["string", "null"],
                "Model id (activity is attributed to the model of the next assistant turn).",
            ),
        ),
        "by_source": rollup("source", t("string", "Source name.")),
        "by_session": t(
            "array",
            "Rollup by session, sorted by first activity then source and id.",
            items=obj(
                "One session.",
                {
                    "session_id": t("string", "Session id under the profile."),
                    "source": t("string", "Source name."),
                    "project_key": t(["string", "null"], "Project key under the profile."),
                    "models": t("array", "Models of its turns in range, sorted.", items={"type": "string"}),
                    "first_active": ts("First message in range"),
                    "last_active": ts("Last message in range"),
                    **ACT_PARTS,
                    "intervals": t(
                        "array",
                        "The session's active spans in the range, in time order (added in v1 without "
                        "a bump): maximal runs of time the activity rule counts; their active_seconds "
                        "add up to agent_seconds.",
                        items=obj(
                            "One active span.",
                            {
                                "start": ts("Span start, inclusive", nullable=False),
                                "end": ts("Span end, exclusive", nullable=False),
                                "active_seconds": count("Seconds counted as activity (end − start)."),
                            },
                        ),
                    ),
                },
                required=[
                    "session_id",
                    "source",
                    "project_key",
                    "models",
                    "first_active",
                    "last_active",
                    *ACT_PARTS,
                ],
            ),
        ),
    },
)


CMP_TOKENS = ("input", "output", "cache_read", "cache_write")
COMPARE_ROW = obj(
    "One (model, activity category) group of turns.",
    {
        "type": t("string", "Line discriminator: compare.", const="compare"),
        "model": t("string", "Model id."),
        "category": t(
            "string",
            "The turns' activity category (meta.activity_rules), or uncategorized when the archive "
            "has not derived one.",
        ),
        "turns": count("Assistant turns in the group."),
        "sessions": count("Distinct sessions those turns belong to."),
        "small_sample": t("boolean", "Fewer turns than the summary's min_turns: read the ratios with care."),
        "tokens": obj(
            "Token sums; a field is null when no turn reported it.",
            {
                "input": nint("Input tokens (without cache)."),
                "output": nint("Output tokens."),
                "cache_read": nint("Cache reads."),
                "cache_write": nint("Cache writes (5-minute and 1-hour)."),
            },
        ),
        "per_turn": obj(
            "Integer mean per turn of each token field, over the turns that reported it (null: none did).",
            {f: nint(f"Mean {f} tokens per turn.") for f in CMP_TOKENS},
        ),
        "cost": cost(
            "Cost of the group.",
            {
                "per_turn_usd_micros": nint("Cost per turn (integer micro-USD, rounded half up)."),
                "per_session_usd_micros": nint("Cost per session (integer micro-USD, rounded half up)."),
            },
        ),
        "cache_hit_ratio": t(
            ["number", "null"],
            "cache_read / (input + cache_read + cache_write), 4 places; null when unknown or zero.",
            minimum=0,
            maximum=1,
        ),
        "tool_results": count("Tool results of the group's tool calls."),
        "tool_errors": count("Of those, results with error status."),
        "tool_error_rate": t(
            ["number", "null"],
            "tool_errors / tool_results, 4 places; null without results.",
            minimum=0,
            maximum=1,
        ),
        "timed_turns": count("Turns whose duration the archive knows."),
        "median_duration_ms": nint("Median turn duration (the lower middle), null when no turn is timed."),
    },
)
COMPARE_SUMMARY = obj(
    "The last section: the sample-size threshold and the models compared.",
    {
        "type": t("string", "Line discriminator: summary.", const="summary"),
        "min_turns": count("Groups with fewer turns are small_sample (--min-turns)."),
        "small_samples": count("Groups marked small_sample."),
        "models": t("array", "Models in the rows, sorted.", items={"type": "string"}),
    },
)


_PLAN_PROPS: dict[str, J] = {
    "type": t("string", "Line discriminator: plan.", const="plan"),
    "name": t("string", "The plan's name in plans.toml."),
    "kind": t("string", "subscription (a price per period) or budget.", enum=["subscription", "budget"]),
    "sources": t("array", "Sources covered (empty: all).", items={"type": "string"}),
    "models": t("array", "Model ids or prefixes ending in * covered (empty: all).", items={"type": "string"}),
    "timezone": t("string", "IANA zone whose midnights bound the period."),
    "reset_day": t(
        "integer", "Day of the month the period starts (clamped to short months).", minimum=1, maximum=31
    ),
    "as_of": ts(
        "The instant the row describes: when the document was generated, or `burn plans --at` "
        "(added in v1 without a bump)",
        nullable=False,
    ),
    "period": obj(
        "The period containing as_of.",
        {
            "start": ts("Start", nullable=False),
            "end": ts("End, exclusive", nullable=False),
            "days": t("number", "Length in days.", minimum=0),
            "elapsed_days": t("number", "Days elapsed at as_of.", minimum=0),
        },
    ),
    "turns": count("Covered turns in the period so far."),
    "tokens": count("Their total tokens."),
    "cost_usd_micros": nint(f"Their cost at API prices. {MICROS} Null when no turn was costed."),
    "price_usd_micros": nint("The subscription's price per period (null for a budget)."),
    "value_ratio": t(
        ["number", "null"], "API-equivalent cost / price paid (null without a price).", minimum=0
    ),
    "budget": {
        "description": "The budget and its use, or null when the plan has none.",
        "anyOf": [
            {"type": "null"},
            obj(
                "Budget use.",
                {
                    "unit": t("string", "usd_micros or tokens.", enum=["usd_micros", "tokens"]),
                    "limit": count("The budget."),
                    "used": count("Used so far."),
                    "share": t(["number", "null"], "used / limit.", minimum=0),
                    "projected_share": t(
                        ["number", "null"], "Projected use at period end / limit.", minimum=0
                    ),
                },
            ),
        ],
    },
    "daily": obj(
        "Burn rate: period use so far per elapsed day.",
        {"cost_usd_micros": count("Micro-USD per day."), "tokens": count("Tokens per day.")},
    ),
    "projection": obj(
        "Use at period end if the burn rate holds.",
        {"cost_usd_micros": count("Micro-USD."), "tokens": count("Tokens.")},
    ),
    "over_budget": t("boolean", "The projection exceeds the budget (`burn plans check` exits 1)."),
    "runs_out_on": t(
        ["string", "null"],
        "Local date the budget runs out at the burn rate (before period end), else null.",
        pattern=r"^\d{4}-\d{2}-\d{2}$",
    ),
}
# as_of came after the first documents: described, not required.
PLAN_ROW = obj(
    "One declared plan's current billing period.", _PLAN_PROPS, [k for k in _PLAN_PROPS if k != "as_of"]
)


# -- burn.analytics (docs/dashboard.md): one panel, or the whole page, per document ----------------

AN_TOKENS = obj("Token sums (null: no turn reported the field).", {
    **{f: nint(f"Sum of {f} tokens.") for f in ("input", "output", "reasoning", "cache_read",
                                                 "cache_write_5m",
                                                 "cache_write_1h", "web_search_requests")},
    "total": nint("input + output + cache reads and writes (null: none reported)."),
})  # fmt: skip
AN_USAGE = {
    "turns": count("Turns."),
    "tokens": AN_TOKENS,
    "cost_usd_micros": nint(MICROS + " Null when no turn was costed."),
}
RATIO = t(
    ["string", "null"], "A decimal string with 4 places (never a float), or null without a denominator."
)
AN_SUMMARY = obj("The cards.", {
    "total_usd_micros": nint("Spend in the window. " + MICROS),
    "today_usd_micros": nint("Spend today (local day of the time zone)."),
    "today": t("string", "Today's local date, YYYY-MM-DD."),
    "per_active_day_usd_micros": nint("Spend / days with turns, floored to an integer micro-USD."),
    "active_days": count("Local days with at least one turn."),
    "cache_hit_ratio": RATIO,
    "sessions": count("Sessions with turns in the window."),
    "turns": count("Turns in the window."),
    "tokens": AN_TOKENS,
})  # fmt: skip
AN_OVER_TIME = obj("Spend per local time bucket, stacked by model.", {
    "bucket": t("string", "Bucket size.", enum=["hour", "day", "week"]),
    "labels": t("array", "Bucket starts in local time (YYYY-MM-DD, or YYYY-MM-DDTHH:00).",
                items={"type": "string"}),
    "series": t("array", "One series per model (the costliest; the rest: `other`).", items=obj("A series.", {
        "model": t("string", "Model id, or other."),
        "usd_micros": t("array", "Spend per bucket.", items={"type": "integer", "minimum": 0}),
    })),
})  # fmt: skip
AN_HIST = obj("One metric's distribution.", {
    "count": count("Turns with the metric."),
    "p50": {"type": ["integer", "string", "null"], "description": "Median (ms; tokens/s: decimal string)."},
    "p90": {"type": ["integer", "string", "null"], "description": "90th percentile."},
    "p99": {"type": ["integer", "string", "null"], "description": "99th percentile."},
    "histogram": t("array", "Bins [from, to).", items=obj("A bin.", {
        "from": count("Lower edge, inclusive."), "to": nint("Upper edge, exclusive (null: open)."),
        "count": count("Turns in the bin."),
    })),
})  # fmt: skip
AN_TIMING = obj("Timing distributions (available: false while no turn carries timing).", {
    "available": t("boolean", "Whether any turn in the window has timing data."),
    "duration_ms": AN_HIST, "latency_ms": AN_HIST, "output_tokens_per_s": AN_HIST,
})  # fmt: skip
AN_PROJECTS = t(
    "array",
    "Spend per project, costliest first.",
    items=obj(
        "A project.",
        {
            "project_key": t(["string", "null"], "Project key under the profile."),
            "label": t("string", "Label under the profile (the key where none may show)."),
            **AN_USAGE,
        },
    ),
)
AN_MODELS = t(
    "array",
    "Spend and tokens per model, costliest first.",
    items=obj("A model.", {"model": t("string", "Model id."), **AN_USAGE}),
)
AN_AGENTS = obj("Spend by agent type and by root vs subagent session.", {
    "by_agent_type": t("array", "Per agent type (main: root sessions without one).",
                       items=obj("An agent type.", {"agent_type": t("string", "Agent type."), **AN_USAGE})),
    "root": {"oneOf": [{"type": "null"}, obj("Root sessions' turns.", AN_USAGE)]},
    "subagent": {"oneOf": [{"type": "null"}, obj("Subagent sessions' turns.", AN_USAGE)]},
})  # fmt: skip
AN_PAGE = obj("The whole page in one request.", {
    "summary": AN_SUMMARY, "spend_over_time": AN_OVER_TIME, "projects": AN_PROJECTS, "models": AN_MODELS,
    "timing": AN_TIMING, "agents": AN_AGENTS,
    "choices": obj("What the page's filters offer.", {
        "sources": t("array", "Sources.", items={"type": "string"}),
        "models": t("array", "Models.", items={"type": "string"}),
        "projects": t("array", "Projects.", items=obj("A project.", {
            "key": t("string", "Key under the profile."), "label": t("string", "Label.")})),
        "ranges": t("array", "Range shorthands.", items={"type": "string"}),
        "buckets": t("array", "Bucket sizes.", items={"type": "string"}),
    }),
})  # fmt: skip
AN_PANELS = {"summary": AN_SUMMARY, "spend-over-time": AN_OVER_TIME, "projects": AN_PROJECTS,
             "models": AN_MODELS, "timing": AN_TIMING, "agents": AN_AGENTS, "page": AN_PAGE}  # fmt: skip


def analytics_schema() -> J:
    m = meta("analytics", False, {})
    branches = [
        obj(
            f"The {name} panel.",
            {"meta": {"$ref": "#/$defs/meta"}, "panel": t("string", "Panel.", const=name), "data": schema_},
        )
        for name, schema_ in AN_PANELS.items()
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE}/analytics.schema.json",
        "title": "burn analytics contract v1",
        "description": "`burn serve` GET /v1/analytics/{panel}: one dashboard panel, or the whole page "
        f"(panel `page`), as one JSON document. {POLICY}",
        "x-schema-version": VERSIONS["analytics"],
        "oneOf": branches,
        "$defs": {"meta": m},
    }


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    bools = {
        "roots_only": t("boolean", "Subagent sessions left out (--roots-only)."),
        "exclude_automated": t("boolean", "Automated sessions left out (--exclude-automated)."),
    }
    docs = {
        "sessions": schema(
            "sessions",
            "burn sessions contract v1",
            "`burn export sessions`: one row per session, in the order (started_at, source, session_id).",
            "session",
            SESSION,
            True,
            bools,
            None,
        ),
        "usage": schema(
            "usage",
            "burn usage contract v1",
            "`burn report usage|daily|weekly|monthly`: token and cost buckets with breakdowns.",
            "usage",
            USAGE_ROW,
            False,
            {
                "by": t(
                    "string",
                    "The grouping (workflow, agent, persona, tier: the sessions' stamps).",
                    enum=[*USAGE_BY],
                )
            },
            USAGE_SUMMARY,
        ),
        "activity": schema(
            "activity",
            "burn activity contract v1",
            "`burn report activity`: agent-seconds, concurrency, cost and output tokens per time bucket.",
            "bucket",
            BUCKET,
            False,
            {"bucket": t("string", "Bucket size.", enum=["15m", "1h", "1d"])},
            ACTIVITY_SUMMARY,
        ),
        "compare": schema(
            "compare",
            "burn compare contract v1",
            "`burn compare` (= `burn report compare`): models side by side per activity category.",
            "compare",
            COMPARE_ROW,
            False,
            {"min_turns": count("Sample-size threshold (--min-turns).")},
            COMPARE_SUMMARY,
        ),
        "plans": schema(
            "plans",
            "burn plans contract v1",
            "`burn plans --json`: one row per plan declared in plans.toml, its current billing period.",
            "plan",
            PLAN_ROW,
            False,
            {},
            None,
        ),
    }
    docs["analytics"] = analytics_schema()
    for name, doc in docs.items():
        (out / f"{name}.schema.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
