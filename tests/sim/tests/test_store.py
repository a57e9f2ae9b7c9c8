"""The entity store: key order, case-insensitive keys, copy-on-write records,
concurrent writers and readers."""
import threading
import unittest

import entity_helpers  # noqa: F401  (sys.path)
from store import Store, norm_key


def rec(i, key):
    return {"id": "00000000-0000-4000-8000-%012d" % i, "K": key, "V": i}


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.store = Store({"T": ("K",), "Two": ("A", "B"), "Num": ("N",)})
        self.t = self.store.table("T")

    def test_key_order_and_lookup(self):
        for i, k in enumerate(["b", "C", "a", "D"]):
            with self.store.lock:
                self.t.insert(rec(i, k))
        self.assertEqual([r["K"] for r in self.t.snapshot()], ["a", "b", "C", "D"])
        self.assertEqual(self.t.get(("c",))["K"], "C")          # case-insensitive
        self.assertEqual(self.t.get_by_id("00000000-0000-4000-8000-000000000002".upper())["K"], "a")
        self.assertIsNone(self.t.get(("zz",)))
        self.assertEqual([r["K"] for r in self.t.slice(1, 2)], ["b", "C"])
        self.assertEqual([r["K"] for r in self.t.slice(3, None)], ["D"])
        self.assertEqual(self.t.slice(10, 5), [])

    def test_multi_part_and_numeric_keys(self):
        two = self.store.table("Two")
        num = self.store.table("Num")
        with self.store.lock:
            for i, (a, b) in enumerate([("SO", "SO000010"), ("RC", "RC000001"), ("SO", "SO000002")]):
                two.insert({"id": "00000000-0000-4000-8000-%012d" % i, "A": a, "B": b})
            for i, n in enumerate([100010, 9, 100002]):
                num.insert({"id": "00000000-0000-4000-8000-1%011d" % i, "N": n})
        self.assertEqual([(r["A"], r["B"]) for r in two.snapshot()],
                         [("RC", "RC000001"), ("SO", "SO000002"), ("SO", "SO000010")])
        self.assertEqual([r["N"] for r in num.snapshot()], [9, 100002, 100010])
        self.assertEqual(norm_key(["so", 5]), ("SO", 5))

    def test_duplicate_insert_refused_and_replace_delete(self):
        with self.store.lock:
            self.t.insert(rec(1, "a"))
            with self.assertRaises(KeyError):
                self.t.insert(rec(2, "A"))
            snap = self.t.snapshot()
            new = dict(snap[0], V=99)
            self.t.replace(new)
        self.assertEqual(snap[0]["V"], 1)                 # the old snapshot is untouched
        self.assertEqual(self.t.get(("a",))["V"], 99)
        with self.store.lock:
            self.assertTrue(self.t.delete(new))
            self.assertFalse(self.t.delete(new))
        self.assertEqual(len(self.t), 0)
        self.assertIsNone(self.t.get_by_id(new["id"]))

    def test_bulk_load_merges_in_order(self):
        with self.store.lock:
            self.t.insert(rec(0, "m"))
            self.t.bulk_load([rec(i + 1, k) for i, k in enumerate("zab")])
        self.assertEqual([r["K"] for r in self.t.snapshot()], ["a", "b", "m", "z"])
        with self.assertRaises(KeyError):
            self.t.bulk_load([rec(9, "A")])

    def test_sequences(self):
        self.assertEqual(self.store.next_number("s"), 1)
        self.assertEqual(self.store.next_number("s"), 2)
        self.store.bump_sequence("s", 10)
        self.assertEqual(self.store.next_number("s"), 11)
        self.assertEqual(self.store.next_number("t", start=100), 100)

    def test_concurrent_writers_and_readers(self):
        writers, per = 8, 250
        errors = []
        stop = threading.Event()

        def writer(w):
            try:
                for i in range(per):
                    n = self.store.next_number("seq")
                    with self.store.lock:
                        self.t.insert({"id": "00000000-0000-4000-8000-%012d" % n,
                                       "K": "K%06d" % n, "V": w})
                        if i % 3 == 0:      # update something already there
                            cur = self.t.get(("K%06d" % n,))
                            self.t.replace(dict(cur, V=-w))
            except Exception as e:          # noqa: BLE001 - reported below
                errors.append(e)

        def reader():
            while not stop.is_set():
                snap = self.t.snapshot()
                keys = [r["K"] for r in snap]
                if keys != sorted(keys):
                    errors.append(AssertionError("snapshot out of order"))
                for r in snap[:50]:
                    if self.t.get_by_id(r["id"]) is None:
                        errors.append(AssertionError("record vanished"))

        readers = [threading.Thread(target=reader) for _ in range(2)]
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in readers + threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        self.assertEqual(errors, [])
        snap = self.t.snapshot()
        self.assertEqual(len(snap), writers * per)
        self.assertEqual(len({r["K"] for r in snap}), writers * per)
        self.assertEqual([r["K"] for r in snap], sorted(r["K"] for r in snap))


if __name__ == "__main__":
    unittest.main()
