"""Stable global customer ids: a re-run keeps each id on the cluster that still holds it.

Rules, applied to a new clustering given the previous identity graph:
- a cluster whose records had one id keeps it;
- a merge (a cluster holding records of several ids) keeps the oldest id and records
  ``old -> survivor`` as an alias;
- a split (an id whose records now sit in several clusters) stays with the cluster holding the
  id's oldest record; the other parts get new ids, and the split is logged;
- a cluster of records never seen gets a new id.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

#: A source record: (source_system, source_record_id).
RecordKey = tuple[str, str]


@dataclass(frozen=True)
class GraphEntry:
    """A record's place in the previous identity graph."""

    global_id: str
    first_seen: datetime
    #: Digest of the record's identity fields when it was resolved.
    key_hash: str | None = None


@dataclass
class StableAssignment:
    """The outcome: an id per record, aliases from merges, and what happened, for the log."""

    ids: dict[RecordKey, str] = field(default_factory=dict)
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (old, survivor)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, global_id, detail)

    @property
    def new_ids(self) -> int:
        """How many ids were minted."""
        return sum(1 for kind, _, _ in self.events if kind == "new")


def mint_id(members: Sequence[RecordKey], taken: set[str]) -> str:
    """A new id derived from the cluster's first record (deterministic), never one in use."""
    first = min(members)
    salt = 0
    while True:
        digest = hashlib.sha256(f"{first[0]}\x1f{first[1]}\x1f{salt}".encode()).hexdigest()
        candidate = f"gc_{digest[:20]}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        salt += 1


def assign_stable_ids(
    clusters: Sequence[Sequence[RecordKey]],
    previous: Mapping[RecordKey, GraphEntry],
    retired: set[str] | None = None,
) -> StableAssignment:
    """Give every cluster an id, keeping previous ids where the rules allow.

    ``retired`` are ids that must not be minted again (aliases of earlier merges).
    """
    result = StableAssignment()
    taken = {entry.global_id for entry in previous.values()} | set(retired or ())
    id_born: dict[str, datetime] = {}
    holders: dict[str, list[int]] = defaultdict(list)
    for index, members in enumerate(clusters):
        for gid in dict.fromkeys(previous[m].global_id for m in members if m in previous):
            holders[gid].append(index)
    for entry in previous.values():
        born = id_born.get(entry.global_id)
        if born is None or entry.first_seen < born:
            id_born[entry.global_id] = entry.first_seen

    keeper: dict[str, int] = {}
    for gid, indexes in holders.items():
        if len(indexes) == 1:
            keeper[gid] = indexes[0]
            continue

        def oldest(index: int, gid: str = gid) -> tuple[datetime, RecordKey]:
            return min(
                (previous[m].first_seen, m)
                for m in clusters[index]
                if m in previous and previous[m].global_id == gid
            )

        keeper[gid] = min(indexes, key=oldest)
        result.events.append(
            ("split", gid, f"records of {gid} now form {len(indexes)} people; it stays with one")
        )

    for index, members in enumerate(clusters):
        claims = [gid for gid, k in keeper.items() if k == index]
        if not claims:
            gid = mint_id(members, taken)
            result.events.append(("new", gid, f"{len(members)} records"))
        else:
            claims.sort(key=lambda g: (id_born[g], g))
            gid = claims[0]
            for old in claims[1:]:
                result.aliases.append((old, gid))
                result.events.append(("merge", gid, f"{old} merged into {gid}"))
        for member in members:
            result.ids[member] = gid
    return result
