"""Reading Asterisk's Master.csv for attempts whose AMI events were missed."""
from __future__ import annotations

from datetime import datetime, timezone

from ivr.dialer import cdr

# Recorded from the pbx instance (cdr_csv, usegmtime, loguniqueid, loguserfield).
MASTER = '''"11","","13800000003","ivr-dial",""""" <>","Local/13800000003@ivr-dial-00000002;2","PJSIP/carrier-00000001","Dial","PJSIP/13800000003@carrier,8","2026-11-22 14:15:25",,"2026-11-22 14:15:25",0,0,"BUSY","DOCUMENTATION","attempt-11-b",""
"11","13800000003","13800000003","ivr-dial",""""" <13800000003>","Local/13800000003@ivr-dial-00000002;1","","AppDial2","(Outgoing Line)","2026-11-22 14:15:25",,"2026-11-22 14:15:25",0,0,"BUSY","DOCUMENTATION","attempt-11-a",""
"12","","13800000001","ivr-dial",""""" <>","Local/13800000001@ivr-dial-00000003;2","PJSIP/carrier-00000002","Dial","PJSIP/13800000001@carrier,8","2026-11-22 14:15:26","2026-11-22 14:15:27","2026-11-22 14:15:35",9,8,"ANSWERED","DOCUMENTATION","attempt-12-b",""
"12","","s","ivr-flow",""""" <>","Local/13800000001@ivr-dial-00000003;1","","Playback","/x/goodbye","2026-11-22 14:15:26","2026-11-22 14:15:27","2026-11-22 14:15:35",9,8,"ANSWERED","DOCUMENTATION","attempt-12-a","keys=1"
'''


def test_dial_leg_and_keys_per_attempt():
    found = cdr.outcomes(MASTER)
    assert found[11].dial_status == "BUSY" and found[11].keys is None
    assert (found[12].dial_status, found[12].keys, found[12].billsec) == ("ANSWER", "1", 8)


def test_records_older_than_the_attempt_are_not_its_own():
    dialed = datetime(2026, 11, 22, 14, 20, tzinfo=timezone.utc)   # a later attempt 12
    found = cdr.outcomes(MASTER, since={12: dialed})
    assert found == {}
    found = cdr.outcomes(MASTER, since={12: datetime(2026, 11, 22, 14, 15, 26, tzinfo=timezone.utc)})
    assert list(found) == [12]
