"""A real SMTP server for portico-mail's tests (aiosmtpd).

Each accepted message is written to DIR/<n>.eml. With --fail-first N the first N messages are
answered 451 (try again later); with --reject the server answers 550 to every recipient; with
--delay-reply S the server keeps a message and waits S seconds before answering 250 (a sender
killed meanwhile has sent it without knowing).
Prints "ready" once listening; stops on SIGTERM.
"""

import argparse
import asyncio
import os
import signal

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory, fail_first, reject, delay_reply):
        self.directory = directory
        self.delay_reply = delay_reply
        self.fail_left = fail_first
        self.reject = reject
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        path = os.path.join(self.directory, f"{self.count}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        if self.delay_reply:
            await asyncio.sleep(self.delay_reply)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--delay-reply", type=float, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(
        Handler(args.dir, args.fail_first, args.reject, args.delay_reply),
        hostname="127.0.0.1",
        port=args.port,
    )
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
