"""Start the Acumatica simulator (tests/sim/acumatica_sim.py, same options)
with one test-only addition: its clock can be frozen, so that many writes
get one last-modified stamp (the boundary tests need records that share a
stamp, as a bulk import in Acumatica makes them).

    POST /_sim/clock {"freeze_at": <epoch seconds>}   the clock stands at that instant
    POST /_sim/clock {"freeze": true}                 the clock stands at its current time
    POST /_sim/clock {"freeze": false}                it runs again (real time + offset)
    POST /_sim/clock {"restamp": "<Entity>", "at": t}  every record of the entity gets
                                                      the last-modified stamp t (epoch
                                                      seconds): a bulk import in one go

Everything else is the simulator as shipped. While frozen, the Date header,
the stamps of writes and the expiry of tokens all stand still.

Usage: python3 sim_launch.py <path of acumatica_sim.py> [simulator options]
"""
import os
import sys


def main():
    sim_path = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(sim_path))
    import acumatica_sim
    import clock
    import control
    import wire

    real_now = clock.Clock.now

    def now(self):
        frozen = getattr(self, "frozen_at", None)
        return frozen if frozen is not None else real_now(self)

    clock.Clock.now = now

    real_post = control.ControlInterface._clock_post

    def clock_post(self, req, body):
        if isinstance(body, dict) and "restamp" in body:
            store = self.sim.entities.store
            stamp = int(float(body["at"]) * 1000)
            with store.lock:
                table = store.table(body["restamp"])
                for rec in table.snapshot():
                    rec["_lm"] = stamp
                n = len(table)
            return wire.json_reply(200, {"restamped": n})
        if isinstance(body, dict) and ("freeze" in body or "freeze_at" in body):
            c = self.sim.clock
            if "freeze_at" in body:
                c.frozen_at = float(body["freeze_at"])
            elif body["freeze"]:
                c.frozen_at = real_now(c)
            else:
                c.frozen_at = None
            return wire.json_reply(200, {"offset_seconds": c.offset(), "now": c.now(),
                                         "frozen": c.frozen_at is not None})
        return real_post(self, req, body)

    control.ControlInterface._clock_post = clock_post
    return acumatica_sim.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
