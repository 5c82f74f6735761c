"""The dialer's AMI connection is cut in the middle of a call: the client reconnects by
itself, the call's result still arrives, and the Originate was sent exactly once."""
from __future__ import annotations

import asyncio

from ivr.dialer.originate import CallPlan
from ivr.dialer.tracker import CallTracker
from ivr.telephony.ami import AMIClient
from ivr.telephony.asterisk.site import ami_client
from ivr.telephony.pstn_sim import Behaviour, PstnSim


class CuttableProxy:
    """A TCP relay in front of the AMI port whose connections the test can cut."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.originates = 0
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer):
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]

        async def pipe(src, dst, count: bool):
            try:
                while data := await src.read(65536):
                    if count:
                        self.originates += data.count(b"Action: Originate\r\n")
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        self.server.close()


def test_connection_cut_mid_call_reconnects_without_dialing_twice(site):
    number = "13911110001"

    async def scenario():
        proxy = CuttableProxy(site.pbx.spec.ami_port)
        port = await proxy.start()
        pbx = AMIClient("127.0.0.1", port, site.pbx.spec.ami_user, site.pbx.ami_secret,
                        name="pbx-via-proxy", min_backoff=0.2, max_backoff=1.0)
        pstn = ami_client(site.pstn)
        sim_calls = []
        pstn.on_event("UserEvent", lambda m: m.get("UserEvent") == "SimCall"
                      and m.get("Number") == number and sim_calls.append(m))
        connects = []
        pbx.on_connect(lambda *_: connects.append(1))
        await pbx.start()
        await pstn.start()
        try:
            await pbx.wait_ready(20)
            await pstn.wait_ready(20)
            await PstnSim(pstn, site.pstn.host_dir / "recordings").script(
                number, Behaviour.answer(0.5, [(4.0, "1")], hangup_after=7.0))
            tracker = CallTracker(pbx)
            plan = CallPlan(prompt=site.sound("prompts/first-call"), trunk=site.trunk.name,
                            dial_timeout=5, key_timeout=2, max_seconds=60)
            call = asyncio.create_task(tracker.place(1001, number, plan, watchdog=40))
            await asyncio.sleep(2.0)              # the call is up and ringing/answered
            assert tracker.live == 1
            proxy.cut()                           # the dialer loses AMI mid-call
            await asyncio.sleep(0.1)
            assert not pbx.ready
            await pbx.wait_ready(10)              # ...and gets it back by itself
            result = await call
            await asyncio.sleep(0.5)              # let the sim's own hangup event arrive
            return result, proxy.originates, proxy.connections, len(connects), len(sim_calls)
        finally:
            await pbx.close()
            await pstn.close()
            await proxy.close()

    result, originates, connections, connects, sim_calls = asyncio.run(
        asyncio.wait_for(scenario(), 60))
    assert connections >= 2 and connects >= 2, "the client did not reconnect"
    assert originates == 1, "the Originate was sent more than once"
    assert sim_calls == 1, f"the owner's phone rang {sim_calls} times"
    # Events after the reconnect still settle the call: it was answered and keys arrived.
    assert result.dial_status == "ANSWER"
    assert result.keys == "1"
