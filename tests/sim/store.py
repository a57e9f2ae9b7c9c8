"""The entity store: one table per top-level entity, safe under concurrent requests.

A record is a plain dict (see render.py for its layout). Records are never
changed in place once stored: a write builds a new dict and swaps it in, so a
reader that took a list of records can serialise them without a lock while
writers carry on.

Each table keeps its records sorted by their key values (the key fields of the
entity in URL order, compared case-insensitively like SQL Server's default
collation, numbers as numbers). That order is the order of every list GET,
which makes $top/$skip paging stable. Lookups by key and by id are dict lookups.

One re-entrant lock per Store serialises writers (and multi-table work such as
creating a shipment from an order); readers take it only to fetch a snapshot.
"""
import bisect
import threading


def norm_key(values):
    """The normalised (sortable, case-insensitive) form of a key tuple."""
    out = []
    for v in values:
        if isinstance(v, str):
            out.append(v.upper())
        else:
            out.append(v)
    return tuple(out)


class Table:
    def __init__(self, name, key_fields, lock):
        self.name = name
        self.key_fields = tuple(key_fields)
        self._lock = lock
        self._keys = []        # sorted normalised keys
        self._recs = []        # records, parallel to _keys
        self._by_key = {}      # normalised key -> record
        self._by_id = {}       # id (lower-case GUID) -> record
        self._snapshot = None  # cached tuple of records in key order

    def key_of(self, rec):
        return norm_key(rec.get(k) for k in self.key_fields)

    def __len__(self):
        return len(self._recs)

    # -- reads ------------------------------------------------------------
    def get(self, key_values):
        """The record whose key fields equal `key_values` (case-insensitive), or None."""
        return self._by_key.get(norm_key(key_values))

    def get_by_id(self, rid):
        return self._by_id.get(rid.lower()) if isinstance(rid, str) else None

    def snapshot(self):
        """All records in key order, as an immutable tuple (cached until the next write)."""
        snap = self._snapshot
        if snap is None:
            with self._lock:
                snap = self._snapshot
                if snap is None:
                    snap = self._snapshot = tuple(self._recs)
        return snap

    def slice(self, skip, top):
        """Records [skip, skip+top) in key order without copying the whole table."""
        with self._lock:
            end = None if top is None else skip + top
            return self._recs[skip:end]

    # -- writes (callers hold the store lock) -----------------------------
    def insert(self, rec):
        key = self.key_of(rec)
        if key in self._by_key:
            raise KeyError("duplicate key %r in %s" % (key, self.name))
        i = bisect.bisect_left(self._keys, key)
        self._keys.insert(i, key)
        self._recs.insert(i, rec)
        self._by_key[key] = rec
        self._by_id[rec["id"].lower()] = rec
        self._snapshot = None

    def replace(self, rec):
        """Swap in a new version of a stored record (same id, same key)."""
        key = self.key_of(rec)
        old = self._by_key.get(key)
        if old is None or old["id"].lower() != rec["id"].lower():
            raise KeyError("no record %r in %s" % (key, self.name))
        i = bisect.bisect_left(self._keys, key)
        self._recs[i] = rec
        self._by_key[key] = rec
        self._by_id[rec["id"].lower()] = rec
        self._snapshot = None

    def delete(self, rec):
        key = self.key_of(rec)
        if key not in self._by_key:
            return False
        i = bisect.bisect_left(self._keys, key)
        del self._keys[i]
        del self._recs[i]
        del self._by_key[key]
        self._by_id.pop(rec["id"].lower(), None)
        self._snapshot = None
        return True

    def bulk_load(self, recs):
        """Add many records at once (seeding): one sort instead of n insertions."""
        items = list(self._by_key.items())
        for r in recs:
            key = self.key_of(r)
            if key in self._by_key:
                raise KeyError("duplicate key %r in %s" % (key, self.name))
            self._by_key[key] = r
            self._by_id[r["id"].lower()] = r
            items.append((key, r))
        items.sort(key=lambda kr: kr[0])
        self._keys = [k for k, _ in items]
        self._recs = [r for _, r in items]
        self._snapshot = None

    def clear(self):
        self._keys, self._recs, self._by_key, self._by_id = [], [], {}, {}
        self._snapshot = None


class Store:
    """All tables plus the numbering sequences, behind one lock."""

    def __init__(self, key_fields_by_entity):
        self.lock = threading.RLock()
        self._key_fields = dict(key_fields_by_entity)
        self.tables = {n: Table(n, k, self.lock) for n, k in self._key_fields.items()}
        self._sequences = {}

    def table(self, name):
        return self.tables[name]

    def next_number(self, sequence, start=1):
        """The next value of a numbering sequence (thread-safe)."""
        with self.lock:
            n = self._sequences.get(sequence, start - 1) + 1
            self._sequences[sequence] = n
            return n

    def last_number(self, sequence):
        """The last value handed out by a sequence (0 when none), without consuming one."""
        with self.lock:
            return self._sequences.get(sequence, 0)

    def bump_sequence(self, sequence, at_least):
        """Make sure the sequence's next value is above `at_least` (after seeding)."""
        with self.lock:
            if self._sequences.get(sequence, 0) < at_least:
                self._sequences[sequence] = at_least

    def clear(self):
        with self.lock:
            for t in self.tables.values():
                t.clear()
            self._sequences.clear()
