"""An ordinary SIP phone works with the dialer's Asterisk: a pyVoIP handset (a staff
member's test phone) registers as extension 8001, is called, answers, and hears audio."""
from __future__ import annotations

import asyncio
import statistics
import threading
import time

from pyVoIP.VoIP import CallState, PhoneStatus, VoIPPhone

from ivr.telephony.asterisk.site import ami_client


def test_pyvoip_handset_registers_answers_and_hears_the_prompt(site):
    heard = bytearray()
    answered = threading.Event()
    finished = threading.Event()

    def on_call(call):
        call.answer()
        answered.set()
        deadline = time.monotonic() + 8
        while call.state == CallState.ANSWERED and time.monotonic() < deadline:
            heard.extend(call.read_audio(160, blocking=True))
        finished.set()

    ext = site.staff_extension
    phone = VoIPPhone("127.0.0.1", site.pbx.spec.sip_port, ext["number"], ext["password"],
                      myIP="127.0.0.1", callCallback=on_call, sipPort=site.handset_sip_port,
                      rtpPortLow=site.handset_rtp[0], rtpPortHigh=site.handset_rtp[1])
    phone.start()
    try:
        deadline = time.monotonic() + 15
        while phone.get_status() != PhoneStatus.REGISTERED:
            assert time.monotonic() < deadline, f"handset did not register: {phone.get_status()}"
            time.sleep(0.1)
        assert f"{ext['number']}/sip:" in site.pbx.cli("pjsip show contacts")

        async def call_handset():
            pbx = ami_client(site.pbx)
            await pbx.start()
            try:
                await pbx.wait_ready(20)
                await pbx.send_action({
                    "Action": "Originate", "Channel": f"PJSIP/{ext['number']}",
                    "Context": "ivr-staff-test", "Exten": "s", "Priority": "1", "Async": "true",
                    "Timeout": "15000",
                    "Variable": f"IVR_PROMPT={site.sound('prompts/staff-test')}"})
            finally:
                await pbx.close()

        asyncio.run(call_handset())
        assert answered.wait(15), "the handset was never called"
        assert finished.wait(15), "the call did not end"
    finally:
        phone.stop()

    # pyVoIP hands out 8-bit unsigned linear audio: 128 is silence.
    assert len(heard) > 8000 * 2, f"only {len(heard)} samples heard"
    level = statistics.pstdev(heard)
    assert level > 5, f"the handset heard silence (stdev {level:.1f})"
