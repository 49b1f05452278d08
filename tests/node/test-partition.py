#!/usr/bin/env python3
"""A network partition between real cloud-bevy-node processes.  Prints TAP.

    CB_NODE=build/app/daemon/cloud-bevy-node python3 tests/node/test-partition.py

Two network namespaces made for this test, joined by one veth pair, are the
two sides (10.231.X.1 and 10.231.X.2); two nodes run on each side, all
hosting test/kv.  Cutting the link (`ip link set down`) is a real partition:
packets stop, connections stall, nothing is told.  Both sides keep writing
for 30 s, partly to the same keys; after the link comes back up the four
nodes converge to one digest that holds every acknowledged write, and the
keys both sides wrote hold the newer write.  Needs root (CAP_NET_ADMIN)
and iproute2, as `make check` provides.
"""
import atexit
import os
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cbcluster as cb  # noqa: E402

KV = "test/kv"
OVERALL_TIMEOUT_S = 300
PARTITION_S = 30.0
FAST = {"probe_interval_ms": 200, "suspicion_min_ms": 1500, "suspicion_max_ms": 4000}


def ip(*args):
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")
    return res.stdout


class Net:
    """Two namespaces and the veth pair between them."""

    def __init__(self):
        tag = f"{os.getpid() % 100000}"
        self.ns = [f"cbpart{tag}a", f"cbpart{tag}b"]
        self.dev = [f"cbp{tag}a", f"cbp{tag}b"]
        octet = os.getpid() % 250 + 1
        self.addr = [f"10.231.{octet}.1", f"10.231.{octet}.2"]
        atexit.register(self.remove)
        for ns in self.ns:
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", self.dev[0], "netns", self.ns[0], "type", "veth",
           "peer", "name", self.dev[1], "netns", self.ns[1])
        for ns, dev, addr in zip(self.ns, self.dev, self.addr):
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")

    def cut(self):
        ip("-n", self.ns[0], "link", "set", self.dev[0], "down")

    def heal(self):
        ip("-n", self.ns[0], "link", "set", self.dev[0], "up")

    def remove(self):
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


class Suite:
    def __init__(self, node_bin, root):
        self.bin = node_bin
        self.root = root
        self.net = None
        self.cl = None
        self.acked = {}
        self.shared = {}          # shared key -> [(hlc, value)] of acknowledged writes
        self.lock = threading.Lock()

    def side(self, node):
        return 0 if node.netns == self.net.ns[0] else 1

    def case_setup(self):
        self.net = Net()
        cloud = cb.Cloud(self.bin, self.root, name="split")
        # Sets of one: the four hosts form several db-sets joined by bridges.
        cloud.edit(lambda cfg: cfg.update(membership=dict(FAST), db_set_size=1))
        self.cl = cb.Cluster(self.bin, self.root, cloud.cloud_json, cloud.publisher_key)
        for i in range(4):
            s = i % 2
            self.cl.add(f"{'ab'[s]}{i // 2}", publisher=i == 0, extra_args=["--host", KV],
                        host=self.net.addr[s], netns=self.net.ns[s])
        self.cl.start()
        took = self.cl.wait_converged(40)
        return f"namespaces {self.net.ns}; 4 nodes converged in {took:.1f} s"

    def writer(self, node, stop, errors):
        i = 0
        while not stop.is_set():
            rows = [{"key": f"{node.name}-{i}", "value": f"{node.name} {i}"},
                    {"key": f"both-{i % 50}", "value": f"{node.name} at {time.time():.6f}"}]
            try:
                pos = node.put(KV, "kv", rows)
            except Exception as e:               # noqa: BLE001 - reported below
                errors.append(str(e))
                return
            with self.lock:
                self.acked[rows[0]["key"]] = rows[0]["value"]
                self.shared.setdefault(rows[1]["key"], []).append((pos["hlc"], rows[1]["value"]))
            i += 1
            time.sleep(0.05)

    def case_partition(self):
        cl = self.cl
        a_side = [n for n in cl.nodes if self.side(n) == 0]
        b_side = [n for n in cl.nodes if self.side(n) == 1]
        self.net.cut()
        t0 = time.monotonic()
        # At once, before anyone has noticed: a cloud query from a0 asks the
        # sets it knows; a contact across the cut does not answer, so the
        # set is asked through its next contact, and a set with none on
        # this side is reported as not answering by the deadline.
        a0 = a_side[0]
        got = a0.query(KV, "SELECT count(*) FROM kv", scope="cloud", sets=8)
        q_took = time.monotonic() - t0
        side_of = {n.id: self.side(n) for n in cl.nodes}
        for st in got["sets"]:
            where = side_of.get(st["contact"])
            assert where is not None, f"asked a stranger: {st}"
            assert st["answered"] == (where == 0), f"set {st['set']} via {st['contact'][:12]} " \
                f"on side {'ab'[where]}: answered {st['answered']}"
        unanswered = sum(not st["answered"] for st in got["sets"])
        retried = sum(st["contacts_tried"] > 1 for st in got["sets"])
        assert unanswered + retried >= 1, f"the cut went unnoticed: {got['sets']}"
        assert q_took < 4.5, f"the cloud query took {q_took:.1f} s"
        stop = threading.Event()
        errors = []
        threads = [threading.Thread(target=self.writer, args=(n, stop, errors))
                   for n in cl.nodes]
        for t in threads:
            t.start()

        def split_seen():
            for group, other in ((a_side, b_side), (b_side, a_side)):
                for n in group:
                    peers = cb.Cluster.peer_map(n.status())
                    for o in other:
                        st = peers.get(o.id, {}).get("state")
                        if st == "alive":
                            return f"{n.name} still sees {o.name} alive"
            return True
        try:
            seen = cl.wait_until(split_seen, 20, "each side sees the other side not alive")
            time.sleep(max(0.0, PARTITION_S - (time.monotonic() - t0)))
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert not errors, f"a write was refused during the partition: {errors[0]}"
        digests = {n.name: n.digest(KV)["digest"] for n in cl.nodes}
        assert digests["a0"] != digests["b0"], "the sides did not diverge: both wrote nothing?"
        for group in (a_side, b_side):
            cl.wait_until(lambda g=group: len({n.digest(KV)["digest"] for n in g}) == 1 or
                          "not yet", 20, f"{[n.name for n in group]} agree within their side")
        cl.check_processes()
        return (f"cut for {time.monotonic() - t0:.0f} s, each side saw the other gone after "
                f"{seen:.1f} s; {len(self.acked)} rows acknowledged; a cloud query from a0 "
                f"reported {unanswered} of {got['sets_asked']} sets unanswered, {retried} reached "
                f"through another contact, in {q_took:.1f} s")

    def case_heal(self):
        cl = self.cl
        self.net.heal()
        t0 = time.monotonic()
        cl.wait_converged(60)
        joined = time.monotonic() - t0
        box = {}

        def same():
            box.update({n.name: n.digest(KV) for n in cl.nodes})
            ds = {d["digest"] for d in box.values()}
            return True if len(ds) == 1 else str({k: d["entries"] for k, d in box.items()})
        cl.wait_until(same, 60, "all four have one digest")
        took = time.monotonic() - t0
        stored = {}
        for row in cl[0].query(KV, "SELECT key, value FROM kv")["rows"]:
            stored[row[0]] = row[1]
        lost = [k for k, v in self.acked.items() if stored.get(k) != v]
        assert not lost, f"{len(lost)} acknowledged writes lost: {lost[:5]}"
        # The keys both sides wrote hold the write with the highest clock
        # (last writer wins), whichever side it came from.
        wrong = []
        for key, writes in self.shared.items():
            writes.sort()
            if len(writes) > 1 and writes[-1][0] == writes[-2][0]:
                continue                  # a tie: the writer id decides
            if stored.get(key) != writes[-1][1]:
                wrong.append(f"{key}: {stored.get(key)!r}, newest {writes[-1][1]!r}")
        assert len(self.shared) == 50 and not wrong, \
            f"{len(self.shared)} shared keys; not the newest write: {wrong[:5]}"
        cl.check_processes()
        rcs = cl.stop()
        assert all(rc == 0 for rc in rcs.values()), f"exit codes {rcs}"
        return (f"membership whole {joined:.1f} s after healing, identical digests after "
                f"{took:.1f} s; {len(stored)} rows")

    def clean_logs(self):
        found = []
        for n in self.cl.nodes:
            found += [f"{n.name}: {line}" for line in cb.log_problems(n.log_path)]
        assert not found, "\n".join(found[:20])


def main():
    node_bin = os.environ.get("CB_NODE") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not node_bin or not os.access(node_bin, os.X_OK):
        print("usage: CB_NODE=build/app/daemon/cloud-bevy-node test-partition.py",
              file=sys.stderr)
        return 2
    tap = cb.Tap(4, OVERALL_TIMEOUT_S)
    with cb.workdir(prefix="cb-test-partition-") as root:
        s = Suite(os.path.abspath(node_bin), root)

        def body():
            try:
                tap.case("setup", "two network namespaces, two nodes on each side, converged",
                         s.case_setup)
                tap.case("cut", f"link cut, both sides write for {PARTITION_S:.0f} s and "
                         "diverge", s.case_partition, ["setup"])
                tap.case("heal", "link back: identical digests, no acknowledged write lost",
                         s.case_heal, ["cut"])
                tap.case("logs", "no sanitizer report or GLib critical in any node's log",
                         s.clean_logs, ["setup"])
            finally:
                cb._kill_everything()
                if s.net:
                    s.net.remove()
        return tap.run_with_watchdog(body)


if __name__ == "__main__":
    sys.exit(main())
