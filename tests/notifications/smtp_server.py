"""A real SMTP server for the notification tests (aiosmtpd), on loopback.

    python smtp_server.py PORT OUTFILE

Accepts every message and appends one JSON line per message and recipient
to OUTFILE: {"message_id", "to", "from", "subject", "body"}. Prints
"ready" on stdout once it listens; stops on SIGTERM/SIGKILL.
"""

import asyncio
import email
import email.policy
import json
import signal
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with open(self.path, "a", encoding="utf-8") as out:
            for rcpt in envelope.rcpt_tos:
                out.write(json.dumps({
                    "message_id": message.get("Message-ID", ""),
                    "to": rcpt,
                    "from": envelope.mail_from,
                    "subject": str(message.get("Subject", "")),
                    "auto_submitted": message.get("Auto-Submitted", ""),
                    "body": text,
                }) + "\n")
        return "250 OK"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Recorder(path), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
