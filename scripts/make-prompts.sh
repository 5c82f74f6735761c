#!/usr/bin/env bash
# Regenerates the shipped prompts in audio/ with the offline voice (espeak-ng cmn),
# converted to 8 kHz 16-bit mono WAV, what Asterisk plays without transcoding work.
set -euo pipefail
cd "$(dirname "$0")/../audio"
say() {  # say OUT TEXT
  espeak-ng -v cmn -s 210 -w /tmp/ivr-prompt.wav "$2"
  sox /tmp/ivr-prompt.wav -r 8000 -c 1 -b 16 "$1" silence 1 0.05 0.5% reverse silence 1 0.05 0.5% reverse norm -3
}
say prompts/first-call.wav "您好，这是物业服务中心的测试来电，请按键，以井号键结束。"
say prompts/goodbye.wav "谢谢，再见。"
say prompts/staff-test.wav "您好，这是语音通知系统的测试呼叫。"
# The answering machine in the simulated network: a long greeting, then a beep.
espeak-ng -v cmn -s 190 -w /tmp/ivr-greet.wav "您好，我现在不方便接听电话。请在提示音后留言，我会尽快给您回电。谢谢。"
sox /tmp/ivr-greet.wav -r 8000 -c 1 -b 16 /tmp/ivr-greet8.wav norm -3
sox -n -r 8000 -c 1 -b 16 /tmp/ivr-beep.wav synth 0.5 sine 1000 vol 0.5
sox /tmp/ivr-greet8.wav /tmp/ivr-beep.wav sim/machine-greeting.wav
